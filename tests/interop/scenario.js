#!/usr/bin/env node
// Runs scenario.json against a running suite from Node.js: @grpc/grpc-js with the protos loaded
// at run time by @grpc/proto-loader (installed by scripts/bootstrap into .tools/node-grpc).
// Environment as scenario.py: ANKEN_<SERVICE>_ADDR, ANKEN_TOKEN_TOOL, ANKEN_JWT_SECRET.
// Prints one line per step; exits 1 at the first step that does not hold.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const modules = path.join(root, '.tools', 'node-grpc', 'node_modules');
const grpc = require(path.join(modules, '@grpc', 'grpc-js'));
const protoLoader = require(path.join(modules, '@grpc', 'proto-loader'));

const SERVICES = {
  customer: ['anken.customer.v1', 'CustomerService', 'anken/customer/v1/customer_service.proto'],
  project: ['anken.project.v1', 'ProjectService', 'anken/project/v1/project_service.proto'],
  billing: ['anken.billing.v1', 'BillingService', 'anken/billing/v1/billing_service.proto'],
  report: ['anken.report.v1', 'ReportIntakeService', 'anken/report/v1/report_service.proto'],
  scheduler: ['anken.scheduler.v1', 'SchedulerService',
    'anken/scheduler/v1/scheduler_service.proto'],
};
const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

function substitute(value, saved) {
  if (value && typeof value === 'object' && Object.keys(value).join() === '$timestamp') {
    // proto-loader takes a Timestamp as the message it is.
    const ms = Date.parse(substitute(value.$timestamp, saved));
    return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
  }
  if (typeof value === 'string') {
    return Object.entries(saved).reduce((s, [k, v]) => s.split('${' + k + '}').join(String(v)), value);
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, saved));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, saved)]));
  }
  return value;
}

// Undefined when `expected` is a subset of `actual`, else why not.
function holds(expected, actual, where = 'response') {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${where}: expected a list, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      if (actual.every((a) => holds(expected[i], a) !== undefined)) {
        return `${where}[${i}]: no element matches ${JSON.stringify(expected[i])}`;
      }
    }
    return undefined;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') {
      return `${where}: expected an object, got ${JSON.stringify(actual)}`;
    }
    for (const [k, v] of Object.entries(expected)) {
      const why = holds(v, actual[k], `${where}.${k}`);
      if (why) return why;
    }
    return undefined;
  }
  if (String(expected) !== String(actual)) {
    return `${where}: expected ${JSON.stringify(String(expected))}, got ${JSON.stringify(actual)}`;
  }
  return undefined;
}

function pick(obj, p) {
  return p.replace(/\]/g, '').replace(/\[/g, '.').split('.').reduce((o, k) => o[k], obj);
}

const tokens = {};
function token(who) {
  if (who === 'none') return null;
  if (!(who in tokens)) {
    const [role, partner] = who.split(':');
    const args = ['--role', role, '--sub', 'interop-node'];
    if (partner) args.push('--partner-id', partner);
    tokens[who] = execFileSync(process.env.ANKEN_TOKEN_TOOL, args, { encoding: 'utf8' }).trim();
  }
  return tokens[who];
}

function call(client, method, request, tok) {
  const metadata = new grpc.Metadata();
  if (tok) metadata.add('authorization', 'Bearer ' + tok);
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline: Date.now() + 30000 }, (err, reply) =>
      resolve({ err, reply }));
  });
}

async function main() {
  const { steps } = JSON.parse(fs.readFileSync(path.join(__dirname, 'scenario.json'), 'utf8'));
  const clients = {};
  for (const [name, [pkg, service, file]] of Object.entries(SERVICES)) {
    const addr = process.env[`ANKEN_${name.toUpperCase()}_ADDR`];
    if (!addr) continue;
    const definition = protoLoader.loadSync(file, {
      keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
      includeDirs: [path.join(root, 'proto'), '/usr/include'],
    });
    const loaded = grpc.loadPackageDefinition(definition);
    const Client = pkg.split('.').reduce((o, k) => o[k], loaded)[service];
    clients[name] = new Client(addr, grpc.credentials.createInsecure());
  }
  const saved = { run: crypto.randomBytes(6).toString('hex') };
  for (let n = 1; n <= steps.length; n++) {
    const step = substitute(steps[n - 1], saved);
    const attempts = (step.retry && step.retry.times) || 1;
    let why;
    let response;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const { err, reply } = await call(clients[step.service], step.method, step.request,
        token(step.as));
      response = reply;
      if (err) {
        why = CODE_NAMES[err.code] === step.expect_code ? undefined
          : `${CODE_NAMES[err.code]}: ${err.details}`;
      } else if (step.expect_code) {
        why = `expected ${step.expect_code}, got OK`;
      } else {
        why = holds(step.expect || {}, reply);
      }
      if (!why) break;
      await new Promise((r) => setTimeout(r, (step.retry && step.retry.sleep_ms) || 0));
    }
    const label = String(n).padStart(2);
    if (why) {
      console.log(`FAIL ${label} ${step.name}: ${why}`);
      process.exit(1);
    }
    for (const [v, p] of Object.entries(step.save || {})) saved[v] = pick(response, p);
    console.log(`ok   ${label} ${step.name}`);
  }
  console.log(`node: ${steps.length} steps held`);
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
