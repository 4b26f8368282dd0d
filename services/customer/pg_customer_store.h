#pragma once
// CustomerStore on Postgres (schema `customer`, migrations/V001__init.sql). Every method is
// one Pool::Transact bounded by the caller's deadline (reads run READ ONLY); nothing throws,
// and libpqxx errors become statuses by db::StatusFromException (the mapping of pg_status.h).
//
// Choices the interface leaves open, so handlers and the in-memory fake can match them:
// - Instants are stored with microsecond precision: ctx.now is truncated to the microsecond
//   first, so what a create returns equals what a later read returns.
// - Creates with an empty ctx.request_id are not idempotent (nothing is recorded); with one,
//   db::BeginIdempotent / FinishIdempotent run in the create's transaction under ctx.method.
// - Generated codes are "C" + the sequence number, zero-padded to 6 digits; a number whose
//   code is already taken (entered by hand) is skipped. A taken code given by the caller is
//   ALREADY_EXISTS with ErrorInfo reason "CUSTOMER_CODE_TAKEN" naming the code (on create,
//   on update and in an import).
// - Updates: `mutate` sees the locked row. The store keeps what is not the mutator's to
//   change (ids, version, stamps, a contact's customer_id, an inquiry's customer_id and
//   responses). When the mutated row has the same content as before, nothing is written (no
//   version bump, no audit event) and the row is returned as it was.
// - The primary flag of contacts: a customer's first contact becomes primary whatever it
//   asked; a new or updated contact that asks for it takes it from the old primary, which is
//   saved with version + 1 and its own audit event. Writes that touch a customer's contacts
//   lock the customer row first (FOR NO KEY UPDATE), so they serialize per customer.
// - An inquiry's contact_id (on create and on update) must be a contact of the inquiry's
//   customer: INVALID_ARGUMENT on "inquiry.contact_id" otherwise. Adding a response bumps the
//   inquiry's version and update stamp (its representation, and so its etag, changed).
// - Audit events: resource types "customer", "contact", "inquiry", "inquiry_response"; ids
//   "customers/<id>", "customers/<cid>/contacts/<id>", "customers/<cid>/inquiries/<id>" and
//   "customers/<cid>/inquiries/<iid>/responses/<id>". An import writes one event per created
//   customer and contact.
// - ImportCustomers inserts the customers that name a code before those that get one
//   generated (so a generated code never takes a code named later in the file; ids follow
//   that order). A contact whose customer code is neither in the file nor stored is
//   NOT_FOUND naming the code; nothing is written then either.
// - ListAuditEvents and ListContacts are NOT_FOUND for an unknown customer.
// - The search key is SearchKey() of code, name, kana and phone joined by U+001F, matched as
//   a substring (no index: see the migration).

#include <cstdint>
#include <string>
#include <vector>

#include "common/db/pool.h"
#include "services/customer/customer_store.h"

namespace anken::customer {

class PgCustomerStore final : public CustomerStore {
 public:
  // The schema every statement and the idempotency / audit tables use.
  static constexpr char kSchema[] = "customer";

  // `pool` must outlive the store.
  explicit PgCustomerStore(db::Pool& pool) : pool_(pool) {}

  absl::StatusOr<Customer> GetCustomer(int64_t id, absl::Time deadline) override;
  absl::StatusOr<std::vector<Customer>> GetCustomers(const std::vector<int64_t>& ids,
                                                     absl::Time deadline) override;
  absl::StatusOr<std::vector<Customer>> ListCustomers(const CustomerFilter& filter,
                                                      int64_t after_id, int limit,
                                                      absl::Time deadline) override;
  absl::StatusOr<std::string> CreateCustomer(const WriteContext& ctx, Customer customer,
                                             const Encoder<Customer>& encode) override;
  absl::StatusOr<Customer> UpdateCustomer(const WriteContext& ctx, int64_t id,
                                          const Mutator<Customer>& mutate) override;

  absl::StatusOr<std::string> CreateContact(const WriteContext& ctx, Contact contact,
                                            const Encoder<Contact>& encode) override;
  absl::StatusOr<Contact> UpdateContact(const WriteContext& ctx, int64_t id,
                                        const Mutator<Contact>& mutate) override;
  absl::StatusOr<std::vector<Contact>> ListContacts(int64_t customer_id,
                                                    absl::Time deadline) override;

  absl::StatusOr<std::string> CreateInquiry(const WriteContext& ctx, Inquiry inquiry,
                                            const Encoder<Inquiry>& encode) override;
  absl::StatusOr<Inquiry> UpdateInquiry(const WriteContext& ctx, int64_t id,
                                        const Mutator<Inquiry>& mutate) override;
  absl::StatusOr<std::string> AddInquiryResponse(const WriteContext& ctx, int64_t inquiry_id,
                                                 const std::string& body,
                                                 const Encoder<Inquiry>& encode) override;
  absl::StatusOr<Inquiry> GetInquiry(int64_t id, absl::Time deadline) override;
  absl::StatusOr<std::vector<Inquiry>> ListInquiries(const InquiryFilter& filter, int64_t before_id,
                                                     int limit, absl::Time deadline) override;

  absl::StatusOr<std::string> ImportCustomers(const WriteContext& ctx,
                                              std::vector<Customer> customers,
                                              std::vector<ContactImport> contacts,
                                              const Encoder<ImportResult>& encode) override;
  absl::StatusOr<absl::optional<std::string>> FindReplay(const WriteContext& ctx) override;
  absl::StatusOr<std::vector<std::string>> ExistingCodes(const std::vector<std::string>& codes,
                                                         absl::Time deadline) override;

  absl::StatusOr<std::vector<AuditEntry>> ListAuditEvents(int64_t customer_id, int64_t before_id,
                                                          int limit, absl::Time deadline) override;

 private:
  db::Pool& pool_;
};

}  // namespace anken::customer
