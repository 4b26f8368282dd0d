#pragma once
// The payer matcher (payment_rules.h) of RecordPayment and ImportBankStatement, kept between
// calls instead of listing every customer and normalising every name on each one (for 10,000
// customers that was ten peer calls and 20,000 normalisations per call). The first call lists
// every customer; later ones ask the customer service only for customers changed at or after
// the newest change seen less `margin` (a transaction that committed late keeps the time it
// started with), and the whole list again once `full_refresh` has passed on the clock. The
// matcher is rebuilt only when a name or the learnt mapping changed, so a call sees every
// customer the customer service had committed when it asked. Thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/clock/clock.h"
#include "grpcpp/server_context.h"
#include "services/billing/payment_rules.h"
#include "services/billing/peers.h"

namespace anken::billing {

class PayerDirectory {
 public:
  // `peers` and `clock` must outlive the directory.
  PayerDirectory(Peers& peers, const Clock& clock, absl::Duration full_refresh = absl::Minutes(10),
                 absl::Duration margin = absl::Minutes(5))
      : peers_(peers), clock_(clock), full_refresh_(full_refresh), margin_(margin) {}

  // The matcher over every customer's names and `learnt` (the store's learnt payer names);
  // the customer service's errors (UNAVAILABLE ...) as Peers reports them.
  absl::StatusOr<std::shared_ptr<const PayerMatcher>> Matcher(
      const std::map<std::string, int64_t>& learnt, const grpc::ServerContextBase& incoming);

 private:
  Peers& peers_;
  const Clock& clock_;
  const absl::Duration full_refresh_;
  const absl::Duration margin_;

  absl::Mutex mu_;
  std::map<int64_t, CustomerName> names_ ABSL_GUARDED_BY(mu_);  // by customer id
  absl::optional<absl::Time> newest_ ABSL_GUARDED_BY(mu_);      // newest update_time seen
  absl::Time listed_all_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // clock time
  std::map<std::string, int64_t> learnt_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const PayerMatcher> matcher_ ABSL_GUARDED_BY(mu_);
};

}  // namespace anken::billing
