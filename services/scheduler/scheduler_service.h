#pragma once
// gRPC handlers of anken.scheduler.v1.SchedulerService: check the caller's role, convert
// proto <-> domain, apply the rules, call the store, map Status. The store and the jobs are
// injected, so tests build this without any background thread.
//
// Choices:
// - TriggerJob refuses a slot in the future (it would run work before its time), a slot that
//   is not one of the job's schedule (any whole minute when the schedule is off), a disabled
//   job and a paused job. The run is QUEUED (due now); whichever replica's worker looks next
//   claims it, and this replica's workers are woken at once.
// - ListJobs shows the next slot the job will run: the first slot after its cursor, which lies
//   in the past while the job catches up.
// - The service keeps the background machinery it serves alongside alive (KeepAlive), so one
//   object's lifetime bounds both: ServiceMain destroys services before the database pool.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "anken/scheduler/v1/scheduler_service.grpc.pb.h"
#include "common/api/page_token.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "services/scheduler/runner.h"
#include "services/scheduler/scheduler_store.h"

namespace anken::scheduler {

class SchedulerServiceImpl final : public v1::SchedulerService::Service {
 public:
  // `wake` (optional) is called after TriggerJob and ResumeJob.
  SchedulerServiceImpl(SchedulerStore& store, const Clock& clock,
                       const api::PageTokenCodec& page_tokens, std::vector<ScheduledJob> jobs,
                       std::string mail_domain, std::function<void()> wake = nullptr)
      : store_(store), clock_(clock), page_tokens_(page_tokens), jobs_(std::move(jobs)),
        mail_domain_(std::move(mail_domain)), wake_(std::move(wake)) {}
  ~SchedulerServiceImpl() override;

  // Who may call what: admin and staff read jobs, runs and notifications; admin triggers,
  // pauses and resumes; services (and admin) enqueue notifications.
  static auth::MethodRoles Roles();

  // Owns `background` (the runner, the delivery loop and what they use) and destroys it, first
  // thing, when the service is destroyed.
  void KeepAlive(std::shared_ptr<void> background) { background_ = std::move(background); }

  grpc::Status ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                        v1::ListJobsResponse* resp) override;
  grpc::Status ListRuns(grpc::ServerContext* ctx, const v1::ListRunsRequest* req,
                        v1::ListRunsResponse* resp) override;
  grpc::Status TriggerJob(grpc::ServerContext* ctx, const v1::TriggerJobRequest* req,
                          v1::TriggerJobResponse* resp) override;
  grpc::Status PauseJob(grpc::ServerContext* ctx, const v1::PauseJobRequest* req,
                        v1::Job* resp) override;
  grpc::Status ResumeJob(grpc::ServerContext* ctx, const v1::ResumeJobRequest* req,
                         v1::Job* resp) override;
  grpc::Status EnqueueNotification(grpc::ServerContext* ctx,
                                   const v1::EnqueueNotificationRequest* req,
                                   v1::Notification* resp) override;
  grpc::Status ListNotifications(grpc::ServerContext* ctx,
                                 const v1::ListNotificationsRequest* req,
                                 v1::ListNotificationsResponse* resp) override;

 private:
  const ScheduledJob* FindJob(const std::string& name) const;
  absl::StatusOr<v1::Job> JobProto(const ScheduledJob& job, const JobRow* row,
                                   absl::Time deadline) const;

  SchedulerStore& store_;
  const Clock& clock_;
  const api::PageTokenCodec& page_tokens_;
  std::vector<ScheduledJob> jobs_;
  std::string mail_domain_;
  std::function<void()> wake_;
  std::shared_ptr<void> background_;
};

}  // namespace anken::scheduler
