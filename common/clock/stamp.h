#pragma once
// Who created and last changed a record, and when: kept on every resource and shown to
// clients as anken.common.v1.AuditInfo.

#include <string>

#include "absl/time/time.h"

namespace anken {

struct Stamp {
  absl::Time create_time;
  std::string created_by;
  absl::Time update_time;
  std::string updated_by;
};

}  // namespace anken
