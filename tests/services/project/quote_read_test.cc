// GetQuote and ListQuotes through the gRPC API (project_fixture.h: real Postgres, the real
// customer service): a quote reads back exactly as CreateQuote and SendQuote answered, with
// hand-checked lines and totals; the list filters by case, customer and status and pages by id
// (the exact ids of every page); bad input is INVALID_ARGUMENT naming the field, an unknown
// quote NOT_FOUND. Partners are denied both (project_service_test.cc, PartnerScopeTest).

#include <functional>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "tests/services/project/project_fixture.h"

namespace anken::project::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;

::testing::AssertionResult SameQuote(const v1::Quote& got, const v1::Quote& want) {
  if (MessageDifferencer::Equals(got, want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << got.ShortDebugString() << "\nwant "
                                       << want.ShortDebugString();
}

std::vector<int64_t> QuoteIds(const v1::ListQuotesResponse& page) {
  std::vector<int64_t> ids;
  for (const auto& q : page.quotes()) ids.push_back(q.id());
  return ids;
}

std::vector<int64_t> IdsOfQuotes(std::initializer_list<const v1::Quote*> quotes) {
  std::vector<int64_t> ids;
  for (const v1::Quote* q : quotes) ids.push_back(q->id());
  return ids;
}

class QuoteReadTest : public ProjectServiceTest {
 protected:
  absl::StatusOr<v1::Quote> GetQuote(int64_t id, const std::string& token) {
    v1::GetQuoteRequest req;
    req.set_id(id);
    return Call(&Stub::GetQuote, req, token);
  }
  absl::StatusOr<v1::Quote> GetQuote(int64_t id) { return GetQuote(id, staff_); }
  absl::StatusOr<v1::ListQuotesResponse> ListQuotes(const v1::ListQuotesRequest& req,
                                                    const std::string& token) {
    return Call(&Stub::ListQuotes, req, token);
  }
  absl::StatusOr<v1::ListQuotesResponse> ListQuotes(const v1::ListQuotesRequest& req) {
    return ListQuotes(req, staff_);
  }

  // Every page of `req` at `page_size`: the ids of each page, in order. Fails the test when a
  // call fails or a page other than the last comes without a token.
  std::vector<std::vector<int64_t>> Pages(v1::ListQuotesRequest req, int page_size) {
    std::vector<std::vector<int64_t>> pages;
    req.set_page_size(page_size);
    for (int guard = 0; guard < 20; ++guard) {
      absl::StatusOr<v1::ListQuotesResponse> page = ListQuotes(req);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      pages.push_back(QuoteIds(*page));
      if (page->next_page_token().empty()) break;
      req.set_page_token(page->next_page_token());
    }
    return pages;
  }
};

TEST_F(QuoteReadTest, GetQuoteReturnsWhatCreateAndSendMade) {
  const v1::Project p = MustCreateProject(NewProject("見積読出し"));
  // 1.5 × ¥10,000 at 10% and 2 × ¥1,234 at 8% (reduced, marked ※ on the PDF).
  v1::Quote in = NewQuote(p.id(), {FreeLine("設計作業", 1500, 10'000, common::v1::TAX_CATEGORY_STANDARD),
                                   FreeLine("弁当", 2000, 1'234, common::v1::TAX_CATEGORY_REDUCED)},
                          70, YM(2026, 6));
  in.set_note("初回見積");
  absl::StatusOr<v1::Quote> created = CreateQuote(in);
  ASSERT_TRUE(created.ok()) << created.status();

  absl::StatusOr<v1::Quote> got = GetQuote(created->id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(SameQuote(*got, *created));
  // The values themselves, by hand: amounts floor(quantity × price), tax once per rate.
  EXPECT_EQ(got->project_id(), p.id());
  EXPECT_EQ(got->number(), 1);
  EXPECT_EQ(got->status(), v1::QUOTE_STATUS_DRAFT);
  ASSERT_EQ(got->lines_size(), 2);
  EXPECT_EQ(got->lines(0).description(), "設計作業");
  EXPECT_EQ(got->lines(0).quantity_milli(), 1500);
  EXPECT_EQ(got->lines(0).amount(), 15'000);
  EXPECT_EQ(got->lines(1).description(), "弁当");
  EXPECT_EQ(got->lines(1).tax_category(), common::v1::TAX_CATEGORY_REDUCED);
  EXPECT_EQ(got->lines(1).amount(), 2'468);
  ASSERT_EQ(got->rate_totals_size(), 2) << got->ShortDebugString();
  for (const auto& r : got->rate_totals()) {
    if (r.category() == common::v1::TAX_CATEGORY_STANDARD) {
      EXPECT_EQ(r.taxable_amount(), 15'000);
      EXPECT_EQ(r.tax(), 1'500);
    } else {
      EXPECT_EQ(r.category(), common::v1::TAX_CATEGORY_REDUCED);
      EXPECT_EQ(r.taxable_amount(), 2'468);
      EXPECT_EQ(r.tax(), 197);  // 197.44, rounded down
    }
  }
  EXPECT_EQ(got->subtotal(), 17'468);
  EXPECT_EQ(got->tax(), 1'697);
  EXPECT_EQ(got->total(), 19'165);
  EXPECT_EQ(got->win_probability(), 70);
  EXPECT_EQ(got->expected_order_month().month(), 6);
  EXPECT_EQ(got->note(), "初回見積");
  EXPECT_EQ(got->etag(), "\"1\"");
  EXPECT_EQ(got->audit().created_by(), "staff-1");

  // After sending: the new status and etag, the rest unchanged; accounting and admin read too.
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<v1::Quote> sent = SendQuote(created->id(), created->etag());
  ASSERT_TRUE(sent.ok()) << sent.status();
  for (const std::string& token : {staff_, accounting_, admin_}) {
    absl::StatusOr<v1::Quote> again = GetQuote(created->id(), token);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(SameQuote(*again, *sent));
  }
  EXPECT_EQ(sent->status(), v1::QUOTE_STATUS_SENT);
  EXPECT_EQ(sent->etag(), "\"2\"");
  EXPECT_EQ(sent->total(), 19'165);
  EXPECT_EQ(sent->lines_size(), 2);

  EXPECT_TRUE(IsError(GetQuote(kUnknownId).status(), absl::StatusCode::kNotFound,
                      "QUOTE_NOT_FOUND"));
  EXPECT_TRUE(IsInvalidField(GetQuote(0).status(), "id", "REQUIRED"));
  EXPECT_TRUE(IsInvalidField(GetQuote(-3).status(), "id", "REQUIRED"));
  // The service role reads cases, not quotes.
  EXPECT_TRUE(IsError(GetQuote(created->id(), service_token_).status(),
                      absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
}

TEST_F(QuoteReadTest, ListQuotesFiltersAndPagesById) {
  const customer::v1::Customer other = MustCreateCustomer(Corporation("株式会社別顧客"));
  const v1::Project a1 = MustCreateProject(NewProject("A1"));
  const v1::Project a2 = MustCreateProject(NewProject("A2"));
  v1::Project b1_in = NewProject("B1");
  b1_in.set_customer_id(other.id());
  const v1::Project b1 = MustCreateProject(b1_in);
  const v1::Project empty = MustCreateProject(NewProject("見積なし"));

  const v1::QuoteLine line = FreeLine("作業", 1000, 10'000, common::v1::TAX_CATEGORY_STANDARD);
  // Interleaved across cases so that no filter's result is a contiguous run of ids.
  const v1::Quote q1 = MustCreateQuote(NewQuote(a1.id(), {line}));
  const v1::Quote q2 = MustCreateQuote(NewQuote(b1.id(), {line}));
  const v1::Quote q3 = MustCreateQuote(NewQuote(a2.id(), {line}));
  const v1::Quote q4 = MustCreateQuote(NewQuote(a1.id(), {line}));
  const v1::Quote q5 = MustCreateQuote(NewQuote(b1.id(), {line}));
  const v1::Quote q6 = MustCreateQuote(NewQuote(a1.id(), {line, line}));
  const v1::Quote q7 = MustCreateQuote(NewQuote(a2.id(), {line}));
  ASSERT_TRUE(SendQuote(q1.id()).ok());
  ASSERT_TRUE(SendQuote(q2.id()).ok());
  ASSERT_TRUE(SendQuote(q6.id()).ok());
  ASSERT_TRUE(AcceptQuote(q3.id()).ok());
  ASSERT_TRUE(RejectQuote(q4.id(), "予算超過").ok());
  // Status now: q1 SENT, q2 SENT, q3 ACCEPTED, q4 REJECTED, q5 DRAFT, q6 SENT, q7 DRAFT.

  // Everything, 3 a page: three pages with exactly these ids, the last without a token.
  const v1::ListQuotesRequest all;
  EXPECT_EQ(Pages(all, 3), (std::vector<std::vector<int64_t>>{
                               IdsOfQuotes({&q1, &q2, &q3}), IdsOfQuotes({&q4, &q5, &q6}),
                               IdsOfQuotes({&q7})}));
  // A page size that divides the rows: the last full page still has no token.
  EXPECT_EQ(Pages(all, 7),
            (std::vector<std::vector<int64_t>>{IdsOfQuotes({&q1, &q2, &q3, &q4, &q5, &q6, &q7})}));

  // The rows are whole quotes: each equals GetQuote's answer (lines and totals included).
  absl::StatusOr<v1::ListQuotesResponse> full = ListQuotes(all, accounting_);
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_EQ(full->quotes_size(), 7);
  EXPECT_EQ(full->next_page_token(), "");
  for (const auto& row : full->quotes()) {
    v1::GetQuoteRequest get;
    get.set_id(row.id());
    absl::StatusOr<v1::Quote> one = Call(&Stub::GetQuote, get);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_TRUE(SameQuote(row, *one));
  }
  EXPECT_EQ(full->quotes(5).lines_size(), 2);
  EXPECT_EQ(full->quotes(5).subtotal(), 20'000);
  EXPECT_EQ(full->quotes(2).status(), v1::QUOTE_STATUS_ACCEPTED);

  // By case, paged 2 at a time.
  v1::ListQuotesRequest by_case;
  by_case.set_project_id(a1.id());
  EXPECT_EQ(Pages(by_case, 2), (std::vector<std::vector<int64_t>>{IdsOfQuotes({&q1, &q4}),
                                                                   IdsOfQuotes({&q6})}));
  // By customer: the quotes of all its cases.
  v1::ListQuotesRequest by_customer;
  by_customer.set_customer_id(active_.id());
  EXPECT_EQ(Pages(by_customer, 2),
            (std::vector<std::vector<int64_t>>{IdsOfQuotes({&q1, &q3}), IdsOfQuotes({&q4, &q6}),
                                               IdsOfQuotes({&q7})}));
  v1::ListQuotesRequest of_other;
  of_other.set_customer_id(other.id());
  EXPECT_EQ(Pages(of_other, 100), (std::vector<std::vector<int64_t>>{IdsOfQuotes({&q2, &q5})}));
  // By status, one or several, and combined with the other filters.
  v1::ListQuotesRequest sent;
  sent.add_statuses(v1::QUOTE_STATUS_SENT);
  EXPECT_EQ(Pages(sent, 2), (std::vector<std::vector<int64_t>>{IdsOfQuotes({&q1, &q2}),
                                                                IdsOfQuotes({&q6})}));
  v1::ListQuotesRequest open_of_active;
  open_of_active.set_customer_id(active_.id());
  open_of_active.add_statuses(v1::QUOTE_STATUS_DRAFT);
  open_of_active.add_statuses(v1::QUOTE_STATUS_SENT);
  EXPECT_EQ(Pages(open_of_active, 100),
            (std::vector<std::vector<int64_t>>{IdsOfQuotes({&q1, &q6, &q7})}));
  v1::ListQuotesRequest case_and_customer;  // a case of another customer: nothing
  case_and_customer.set_project_id(b1.id());
  case_and_customer.set_customer_id(active_.id());
  EXPECT_EQ(Pages(case_and_customer, 100), (std::vector<std::vector<int64_t>>{{}}));
  v1::ListQuotesRequest accepted_of_a2;
  accepted_of_a2.set_project_id(a2.id());
  accepted_of_a2.add_statuses(v1::QUOTE_STATUS_ACCEPTED);
  EXPECT_EQ(Pages(accepted_of_a2, 100), (std::vector<std::vector<int64_t>>{IdsOfQuotes({&q3})}));
  // Filters that match nothing: an empty list, not an error.
  for (int64_t project_id : {empty.id(), kUnknownId}) {
    v1::ListQuotesRequest none;
    none.set_project_id(project_id);
    EXPECT_EQ(Pages(none, 100), (std::vector<std::vector<int64_t>>{{}})) << project_id;
  }
  v1::ListQuotesRequest unknown_customer;
  unknown_customer.set_customer_id(kUnknownId);
  EXPECT_EQ(Pages(unknown_customer, 100), (std::vector<std::vector<int64_t>>{{}}));
}

TEST_F(QuoteReadTest, ListQuotesRefusesBadInput) {
  const v1::Project p = MustCreateProject(NewProject("不正入力"));
  const v1::QuoteLine line = FreeLine("作業", 1000, 1'000, common::v1::TAX_CATEGORY_STANDARD);
  for (int i = 0; i < 3; ++i) MustCreateQuote(NewQuote(p.id(), {line}));

  auto list = [&](const std::function<void(v1::ListQuotesRequest&)>& change) {
    v1::ListQuotesRequest req;
    change(req);
    return ListQuotes(req).status();
  };
  EXPECT_TRUE(IsInvalidField(list([](auto& r) { r.set_page_size(-1); }), "page_size"));
  EXPECT_TRUE(IsInvalidField(list([](auto& r) { r.set_page_size(1001); }), "page_size"));
  EXPECT_TRUE(IsInvalidField(list([](auto& r) { r.set_page_token("not-a-token"); }),
                             "page_token"));
  EXPECT_TRUE(IsInvalidField(list([](auto& r) { r.set_project_id(-1); }), "project_id"));
  EXPECT_TRUE(IsInvalidField(list([](auto& r) { r.set_customer_id(-1); }), "customer_id"));
  EXPECT_TRUE(IsInvalidField(
      list([](auto& r) { r.add_statuses(v1::QUOTE_STATUS_UNSPECIFIED); }), "statuses"));
  EXPECT_TRUE(IsInvalidField(
      list([](auto& r) { r.add_statuses(static_cast<v1::QuoteStatus>(9)); }), "statuses"));

  // A token is bound to its filter: reused with another filter it is refused; with another
  // page size it goes on where it left off.
  v1::ListQuotesRequest first;
  first.set_project_id(p.id());
  first.set_page_size(1);
  absl::StatusOr<v1::ListQuotesResponse> page1 = ListQuotes(first);
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_FALSE(page1->next_page_token().empty());
  v1::ListQuotesRequest other_filter;
  other_filter.set_page_token(page1->next_page_token());
  other_filter.add_statuses(v1::QUOTE_STATUS_DRAFT);
  EXPECT_TRUE(IsInvalidField(ListQuotes(other_filter).status(), "page_token"));
  v1::ListQuotesRequest rest = first;
  rest.set_page_size(10);
  rest.set_page_token(page1->next_page_token());
  absl::StatusOr<v1::ListQuotesResponse> page2 = ListQuotes(rest);
  ASSERT_TRUE(page2.ok()) << page2.status();
  EXPECT_EQ(page2->quotes_size(), 2);
  EXPECT_EQ(page2->next_page_token(), "");
  ASSERT_EQ(page1->quotes_size(), 1);
  EXPECT_LT(page1->quotes(0).id(), page2->quotes(0).id());

  // Only admin, staff and accounting read quotes.
  EXPECT_TRUE(IsError(ListQuotes(v1::ListQuotesRequest(), service_token_).status(),
                      absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
  EXPECT_EQ(ListQuotes(v1::ListQuotesRequest(), "").status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace anken::project::testing
