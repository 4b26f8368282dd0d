#pragma once
// absl::Time <-> google.protobuf.Timestamp and absl::CivilDay <-> anken.common.v1.Date, the
// conversions every handler needs.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "anken/common/v1/date.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace anken::api {

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

void ToDate(absl::CivilDay day, common::v1::Date* out);
bool IsDateSet(const common::v1::Date& d);
// INVALID_ARGUMENT naming `field` for an impossible date (2023-02-29, month 13, year 0).
absl::StatusOr<absl::CivilDay> FromDate(const common::v1::Date& d, absl::string_view field);

// An optional date field: nullopt when unset (all zero), else as FromDate.
absl::StatusOr<absl::optional<absl::CivilDay>> OptionalDate(const common::v1::Date& d,
                                                            absl::string_view field);

void ToYearMonth(absl::CivilMonth month, common::v1::YearMonth* out);
// INVALID_ARGUMENT (reason INVALID_MONTH) naming `field` for year 0, month 13 and the like.
absl::StatusOr<absl::CivilMonth> FromYearMonth(const common::v1::YearMonth& ym,
                                               absl::string_view field);

}  // namespace anken::api
