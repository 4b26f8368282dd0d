#include "common/api/proto_time.h"

#include "common/status/errors.h"

namespace anken::api {

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToDate(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

bool IsDateSet(const common::v1::Date& d) { return d.year() != 0 || d.month() != 0 || d.day() != 0; }

absl::StatusOr<absl::CivilDay> FromDate(const common::v1::Date& d, absl::string_view field) {
  if (d.year() < 1 || d.year() > 9999 || d.month() < 1 || d.month() > 12 || d.day() < 1 ||
      d.day() > 31) {
    return InvalidField(field, "is not a valid date", "INVALID_DATE");
  }
  absl::CivilDay day(d.year(), d.month(), d.day());
  if (day.year() != d.year() || day.month() != d.month() || day.day() != d.day()) {
    return InvalidField(field, "is not a valid date", "INVALID_DATE");
  }
  return day;
}

absl::StatusOr<absl::optional<absl::CivilDay>> OptionalDate(const common::v1::Date& d,
                                                            absl::string_view field) {
  if (!IsDateSet(d)) return absl::optional<absl::CivilDay>();
  absl::StatusOr<absl::CivilDay> day = FromDate(d, field);
  if (!day.ok()) return day.status();
  return absl::optional<absl::CivilDay>(*day);
}

void ToYearMonth(absl::CivilMonth month, common::v1::YearMonth* out) {
  out->set_year(static_cast<int32_t>(month.year()));
  out->set_month(month.month());
}

absl::StatusOr<absl::CivilMonth> FromYearMonth(const common::v1::YearMonth& ym,
                                               absl::string_view field) {
  if (ym.year() < 1 || ym.year() > 9999 || ym.month() < 1 || ym.month() > 12) {
    return InvalidField(field, "is not a valid month", "INVALID_MONTH");
  }
  return absl::CivilMonth(ym.year(), ym.month());
}

}  // namespace anken::api
