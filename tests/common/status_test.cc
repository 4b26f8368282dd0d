#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "common/status/domain_error.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace anken {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

absl::Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusMacros, AssignOrReturnPropagatesAndAssigns) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).message(), "odd");
}

TEST(Errors, InvalidFieldCarriesReasonAndViolation) {
  absl::Status s = InvalidField("customer.email", "is not an e-mail address", "BAD_EMAIL");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "customer.email: is not an e-mail address");
  EXPECT_EQ(ErrorReason(s), "BAD_EMAIL");
  auto v = FieldViolations(WithFieldViolation(s, "customer.phone", "too long"));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "customer.email");
  EXPECT_EQ(v[1].field, "customer.phone");
}

TEST(Errors, ToGrpcStatusPacksDetailsAndRoundTrips) {
  absl::Status s = WithReason(absl::NotFoundError("customer C-1 not found"), "CUSTOMER_NOT_FOUND");
  grpc::Status g = ToGrpcStatus(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(g.error_message(), "customer C-1 not found");
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(g.error_details()));
  EXPECT_EQ(rpc.code(), 5);
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(info.domain(), "anken");

  absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorReason(back), "CUSTOMER_NOT_FOUND");
}

TEST(Errors, InternalMessagesNeverReachClients) {
  grpc::Status g = ToGrpcStatus(absl::InternalError("ERROR: relation \"x\" does not exist: SELECT *"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(g.error_message().find("SELECT"), std::string::npos);
  EXPECT_EQ(ToGrpcStatus(absl::UnknownError("boom")).error_message().find("boom"), std::string::npos);
}

TEST(Errors, DomainErrorsBecomeRichDetails) {
  absl::Status d = DomainInvalid("referral.amount", "AMOUNT_REQUIRED", "must be > 0");
  EXPECT_EQ(d.message(), "referral.amount: must be > 0");
  EXPECT_EQ(ErrorReason(d), "AMOUNT_REQUIRED");
  ASSERT_EQ(FieldViolations(d).size(), 1u);
  EXPECT_EQ(FieldViolations(d)[0].field, "referral.amount");
  EXPECT_EQ(FieldViolations(d)[0].description, "must be > 0");
  grpc::Status g = ToGrpcStatus(DomainPrecondition("COMPLETED_IS_FINAL", "no going back"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(ErrorReason(back), "COMPLETED_IS_FINAL");
  EXPECT_TRUE(FieldViolations(back).empty());
  // The private payloads never travel to clients.
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(g.error_details()));
  for (const auto& any : rpc.details()) EXPECT_NE(any.type_url().find("googleapis"), std::string::npos);
}

TEST(Errors, CodesMapByNumber) {
  for (int c = 0; c <= 16; ++c) {
    absl::Status s(static_cast<absl::StatusCode>(c), c == 0 ? "" : "x");
    EXPECT_EQ(static_cast<int>(ToGrpcStatus(s).error_code()), c);
  }
}

}  // namespace
}  // namespace anken
