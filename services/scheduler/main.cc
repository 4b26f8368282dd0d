// anken-scheduler: wiring only (configuration, clock, store, peers, job actions, the runner,
// the mail delivery loop, handlers, server).

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/log/log.h"
#include "common/server/client.h"
#include "common/server/service_main.h"
#include "services/scheduler/delivery.h"
#include "services/scheduler/file_clock.h"
#include "services/scheduler/outbox.h"
#include "services/scheduler/peers.h"
#include "services/scheduler/pg_scheduler_store.h"
#include "services/scheduler/runner.h"
#include "services/scheduler/scheduler_config.h"
#include "services/scheduler/scheduler_service.h"
#include "services/scheduler/smtp_sender.h"

namespace {

namespace scheduler = anken::scheduler;

// Everything the background work uses, destroyed (threads first) when the service is.
struct Background {
  std::unique_ptr<scheduler::FileClock> file_clock;
  std::unique_ptr<scheduler::PgSchedulerStore> store;
  scheduler::CallGroup calls;
  std::unique_ptr<scheduler::BillingPeer> billing;
  std::unique_ptr<scheduler::ReportPeer> report;
  std::unique_ptr<scheduler::StoreOutbox> outbox;
  std::vector<std::unique_ptr<scheduler::JobAction>> actions;
  std::unique_ptr<scheduler::CurlSmtpSender> sender;
  std::unique_ptr<scheduler::JobRunner> runner;
  std::unique_ptr<scheduler::MailDelivery> delivery;

  ~Background() {
    if (delivery) delivery->Stop();
    if (runner) runner->Stop();
  }
};

absl::StatusOr<std::vector<anken::server::RegisteredService>> MakeServices(
    anken::server::Runtime& rt) {
  absl::StatusOr<scheduler::SchedulerConfig> config = scheduler::LoadSchedulerConfig(rt.env);
  if (!config.ok()) return config.status();
  auto bg = std::make_shared<Background>();
  const anken::Clock* clock = &rt.clock;
  if (!config->test_clock_file.empty()) {
    absl::StatusOr<std::unique_ptr<scheduler::FileClock>> fc =
        scheduler::FileClock::Open(config->test_clock_file);
    if (!fc.ok()) return fc.status();
    bg->file_clock = std::move(*fc);
    clock = bg->file_clock.get();
    anken::log::Warn("TEST CLOCK: business time comes from a file")
        .Str("file", config->test_clock_file);
  }
  // A replica frozen inside a transaction loses it (and its locks) before its lease lapses,
  // so that another replica can take its runs over (pg_scheduler_store.h).
  bg->store = std::make_unique<scheduler::PgSchedulerStore>(
      rt.pool, std::max(config->lease / 2, absl::Seconds(1)));
  if (config->billing_addr.empty()) {
    bg->billing = std::make_unique<scheduler::NotConfiguredBillingPeer>("ANKEN_BILLING_ADDR is not set");
  } else {
    bg->billing = std::make_unique<scheduler::GrpcBillingPeer>(
        anken::server::MakePeerChannel(config->billing_addr, rt.config.max_message_bytes,
                                       config->call_timeout),
        rt.peer_auth, bg->calls);
  }
  if (config->report_addr.empty()) {
    bg->report = std::make_unique<scheduler::NotConfiguredReportPeer>("ANKEN_REPORT_ADDR is not set");
  } else {
    bg->report = std::make_unique<scheduler::GrpcReportPeer>(
        anken::server::MakePeerChannel(config->report_addr, rt.config.max_message_bytes,
                                       config->call_timeout),
        rt.peer_auth, bg->calls);
  }
  const std::string mail_domain = scheduler::MailDomain(*config);
  bg->outbox = std::make_unique<scheduler::StoreOutbox>(*bg->store, *clock, mail_domain);

  std::vector<scheduler::ScheduledJob> jobs;
  for (const scheduler::JobKind& kind : scheduler::JobKinds()) {
    std::unique_ptr<scheduler::JobAction> action;
    if (kind.name == "renewals") {
      action = scheduler::MakeRenewalsAction(bg->billing.get());
    } else if (kind.name == "open_report_period") {
      action = scheduler::MakeOpenReportPeriodAction(bg->report.get(), bg->outbox.get());
    } else if (kind.name == "report_reminders") {
      action = scheduler::MakeReportRemindersAction(bg->report.get(), bg->outbox.get(),
                                                    config->recipients);
    } else {
      action = scheduler::MakeBillingAlertsAction(bg->billing.get(), bg->outbox.get(),
                                                  config->recipients);
    }
    jobs.push_back(scheduler::ScheduledJob{&kind, config->schedules.at(kind.name), action.get()});
    bg->actions.push_back(std::move(action));
  }

  scheduler::RunnerOptions options;
  options.owner = scheduler::NewReplicaId();
  options.tick = config->tick;
  options.lease = config->lease;
  options.horizon = config->horizon;
  options.call_timeout = config->call_timeout;
  options.max_attempts = config->max_attempts;
  options.retry_base = config->retry_base;
  bg->runner = std::make_unique<scheduler::JobRunner>(*bg->store, *clock, jobs, options, &bg->calls);

  if (config->mail_enabled) {
    bg->sender = std::make_unique<scheduler::CurlSmtpSender>(config->smtp);
    scheduler::DeliveryOptions d;
    d.owner = options.owner;
    d.from_address = config->mail_from;
    d.from_name = config->mail_from_name;
    d.tick = config->tick;
    d.lease = std::max(config->lease, config->smtp.timeout * 2);
    d.max_attempts = config->mail_max_attempts;
    d.retry_base = config->mail_retry_base;
    d.retry_cap = config->mail_retry_max;
    bg->delivery = std::make_unique<scheduler::MailDelivery>(*bg->store, *clock, *bg->sender, d);
  } else {
    anken::log::Warn("ANKEN_SMTP_URL is not set: notifications stay in the outbox");
  }

  scheduler::JobRunner* runner = bg->runner.get();
  scheduler::MailDelivery* delivery = bg->delivery.get();
  auto service = std::make_unique<scheduler::SchedulerServiceImpl>(
      *bg->store, *clock, rt.page_tokens, jobs, mail_domain, [runner, delivery] {
        runner->Wake();
        if (delivery != nullptr) delivery->Wake();
      });
  if (absl::Status s = bg->runner->Start(); !s.ok()) return s;
  if (bg->delivery) bg->delivery->Start();
  anken::log::Info("scheduler started")
      .Str("replica", options.owner)
      .Bool("mail", config->mail_enabled);
  service->KeepAlive(bg);

  std::vector<anken::server::RegisteredService> out;
  out.push_back(
      anken::server::Register<scheduler::v1::SchedulerService>(std::move(service)));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // The scheduler's own settings are checked before anything starts (and by --check-config),
  // so that a bad one stops the process with exit code 2 like the common settings do.
  bool migrate = false;
  for (int i = 1; i < argc; ++i) migrate = migrate || std::strcmp(argv[i], "--migrate") == 0;
  if (!migrate) {
    anken::log::Init("scheduler", anken::log::Level::kInfo);
    absl::StatusOr<scheduler::SchedulerConfig> config =
        scheduler::LoadSchedulerConfig(anken::Env::Process());
    if (!config.ok()) {
      anken::log::Error("invalid configuration").Str("error", config.status().ToString());
      return 2;
    }
  }
  anken::server::ServiceDefinition def;
  def.name = "scheduler";
  def.default_grpc_port = 50055;
  def.default_metrics_port = 9455;
  def.roles = scheduler::SchedulerServiceImpl::Roles();
  def.make_services = MakeServices;
  return anken::server::ServiceMain(argc, argv, std::move(def));
}
