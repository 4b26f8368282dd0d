#pragma once
// gRPC handlers of anken.customer.v1.CustomerService: check the caller's scope, convert
// proto <-> domain, run the rules (customer_rules.h) and the store, map Status. The store is
// injected, so tests can build this from any CustomerStore.

#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "common/api/page_token.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "services/customer/customer_store.h"

namespace anken::customer {

class CustomerServiceImpl final : public v1::CustomerService::Service {
 public:
  CustomerServiceImpl(CustomerStore& store, const Clock& clock,
                      const api::PageTokenCodec& page_tokens)
      : store_(store), clock_(clock), page_tokens_(page_tokens) {}

  // Who may call what (DESIGN.md / issue: staff and admin read and write; accounting reads;
  // a partner reads its own record; services read).
  static auth::MethodRoles Roles();

  grpc::Status GetCustomer(grpc::ServerContext* ctx, const v1::GetCustomerRequest* req,
                           v1::Customer* resp) override;
  grpc::Status BatchGetCustomers(grpc::ServerContext* ctx, const v1::BatchGetCustomersRequest* req,
                                 v1::BatchGetCustomersResponse* resp) override;
  grpc::Status ListCustomers(grpc::ServerContext* ctx, const v1::ListCustomersRequest* req,
                             v1::ListCustomersResponse* resp) override;
  grpc::Status CreateCustomer(grpc::ServerContext* ctx, const v1::CreateCustomerRequest* req,
                              v1::Customer* resp) override;
  grpc::Status UpdateCustomer(grpc::ServerContext* ctx, const v1::UpdateCustomerRequest* req,
                              v1::Customer* resp) override;
  grpc::Status ConvertLead(grpc::ServerContext* ctx, const v1::ConvertLeadRequest* req,
                           v1::Customer* resp) override;
  grpc::Status DeactivateCustomer(grpc::ServerContext* ctx,
                                  const v1::DeactivateCustomerRequest* req,
                                  v1::Customer* resp) override;
  grpc::Status CreateContact(grpc::ServerContext* ctx, const v1::CreateContactRequest* req,
                             v1::Contact* resp) override;
  grpc::Status UpdateContact(grpc::ServerContext* ctx, const v1::UpdateContactRequest* req,
                             v1::Contact* resp) override;
  grpc::Status ListContacts(grpc::ServerContext* ctx, const v1::ListContactsRequest* req,
                            v1::ListContactsResponse* resp) override;
  grpc::Status CreateInquiry(grpc::ServerContext* ctx, const v1::CreateInquiryRequest* req,
                             v1::Inquiry* resp) override;
  grpc::Status UpdateInquiry(grpc::ServerContext* ctx, const v1::UpdateInquiryRequest* req,
                             v1::Inquiry* resp) override;
  grpc::Status AddInquiryResponse(grpc::ServerContext* ctx,
                                  const v1::AddInquiryResponseRequest* req,
                                  v1::Inquiry* resp) override;
  grpc::Status ListInquiries(grpc::ServerContext* ctx, const v1::ListInquiriesRequest* req,
                             v1::ListInquiriesResponse* resp) override;
  grpc::Status ImportCustomers(grpc::ServerContext* ctx, const v1::ImportCustomersRequest* req,
                               v1::ImportCustomersResponse* resp) override;
  grpc::Status ListAuditEvents(grpc::ServerContext* ctx, const v1::ListAuditEventsRequest* req,
                               v1::ListAuditEventsResponse* resp) override;

 private:
  WriteContext Write(const grpc::ServerContext& ctx, const auth::Principal& caller,
                     absl::string_view method, const std::string& request_id,
                     const google::protobuf::Message& request) const;

  CustomerStore& store_;
  const Clock& clock_;
  const api::PageTokenCodec& page_tokens_;
};

}  // namespace anken::customer
