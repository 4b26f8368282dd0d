#include "services/billing/payer_directory.h"

#include <utility>
#include <vector>

namespace anken::billing {

absl::StatusOr<std::shared_ptr<const PayerMatcher>> PayerDirectory::Matcher(
    const std::map<std::string, int64_t>& learnt, const grpc::ServerContextBase& incoming) {
  // One caller at a time: a second import waits for the first one's refresh and then needs
  // (almost) none of its own.
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  // A clock that went back also lists everything again.
  const bool everything =
      !newest_.has_value() || now < listed_all_ || now - listed_all_ >= full_refresh_;
  const absl::optional<absl::Time> since =
      everything ? absl::nullopt : absl::make_optional(*newest_ - margin_);
  absl::StatusOr<std::vector<DatedCustomerName>> fetched =
      peers_.CustomerNamesSince(since, incoming);
  if (!fetched.ok()) return fetched.status();
  bool changed = matcher_ == nullptr || learnt != learnt_;
  if (everything) {
    std::map<int64_t, CustomerName> all;
    for (DatedCustomerName& c : *fetched) all[c.name.customer_id] = std::move(c.name);
    changed = changed || all.size() != names_.size();
    for (auto a = all.begin(), b = names_.begin(); !changed && a != all.end(); ++a, ++b) {
      changed = a->first != b->first || a->second.name != b->second.name ||
                a->second.name_kana != b->second.name_kana;
    }
    names_ = std::move(all);
    listed_all_ = now;
  } else {
    for (DatedCustomerName& c : *fetched) {
      CustomerName& known = names_[c.name.customer_id];
      if (known.customer_id == 0 || known.name != c.name.name ||
          known.name_kana != c.name.name_kana) {
        changed = true;
        known = std::move(c.name);
      }
    }
  }
  for (const DatedCustomerName& c : *fetched) {
    if (!newest_.has_value() || c.update_time > *newest_) newest_ = c.update_time;
  }
  if (changed) {
    std::vector<CustomerName> customers;
    customers.reserve(names_.size());
    for (const auto& [id, c] : names_) customers.push_back(c);
    learnt_ = learnt;
    matcher_ = std::make_shared<const PayerMatcher>(customers, learnt_);
  }
  return matcher_;
}

}  // namespace anken::billing
