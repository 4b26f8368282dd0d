// Integration tests of payments (入金), reconciliation (消込) and receivables through the billing
// service's gRPC API, against a real Postgres and the real project and customer services
// (billing_fixture.h; the clock stands at 2019-07-10). Invoices are issued through the API to
// customers whose kana names the bank prints half-width. Covered: a 1,000-line CP932 bank CSV
// whose outcome per line (matched, matched with a fee, partial, overpayment, unmatched) is known
// by construction; replaying it imports nothing; a 全銀協 file; a person's allocation that
// teaches the payer's name, and its reversal; entries PAID once their invoice is settled;
// overdue and aging against hand-computed values; write-off; cancel refused once paid; two
// imports at once never over-allocate; idempotent retries; bad input and who may do what.

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/csv/csv.h"
#include "gmock/gmock.h"
#include "tests/services/billing/billing_fixture.h"

namespace anken::billing::testing {
namespace {

// ---- bank files ----

std::string Cp932(const std::string& utf8) {
  absl::StatusOr<std::string> bytes = csv::EncodeCp932(utf8);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.value_or("");
}

struct CsvLine {
  common::v1::Date date;
  int64_t amount = 0;
  std::string payer;  // half-width kana, UTF-8
  std::string reference;
};

// The simple CSV (zengin.h) with a header line, in CP932 as Excel saves it.
std::string BankCsv(const std::vector<CsvLine>& lines) {
  std::string text = "入金日,金額,振込依頼人名,照会番号\r\n";
  for (const CsvLine& l : lines) {
    absl::StrAppend(&text,
                    absl::StrFormat("%04d/%02d/%02d", l.date.year(), l.date.month(), l.date.day()),
                    ",", l.amount, ",", l.payer, ",", l.reference, "\r\n");
  }
  return Cp932(text);
}

// A 全銀協 200-byte record: spaces, with fields put at their 0-based positions.
class Rec {
 public:
  explicit Rec(char type) : bytes_(200, ' ') { bytes_[0] = type; }
  Rec& Num(size_t pos, size_t len, int64_t value) {
    return Put(pos, absl::StrFormat("%0*d", static_cast<int>(len), value));
  }
  Rec& Raw(size_t pos, const std::string& value) { return Put(pos, value); }
  Rec& Text(size_t pos, const std::string& utf8) { return Put(pos, Cp932(utf8)); }
  const std::string& bytes() const { return bytes_; }

 private:
  Rec& Put(size_t pos, const std::string& value) {
    bytes_.replace(pos, value.size(), value);
    return *this;
  }
  std::string bytes_;
};

struct ZenginLine {
  int64_t reference;
  std::string date;  // 和暦 YYMMDD: 令和元年 = 01
  int direction;     // 1 入金, 2 出金
  int64_t amount;
  std::string payer;
};

// One account's statement (bank 0001, branch 123, 普通 0001234567) for 令和元年7月1日〜10日.
std::string ZenginFile(const std::vector<ZenginLine>& lines) {
  std::string out = Rec('1')
                        .Raw(1, "03")
                        .Raw(3, "0")
                        .Raw(4, "010710")
                        .Raw(10, "010701")
                        .Raw(16, "010710")
                        .Raw(22, "0001")
                        .Text(26, "ﾐｽﾞﾎ")
                        .Raw(41, "123")
                        .Text(44, "ﾄｳｷﾖｳ")
                        .Raw(59, "000")
                        .Num(62, 1, 1)
                        .Raw(63, "0001234567")
                        .Text(73, "ｶ)ｱﾝｹﾝ")
                        .Num(115, 14, 5'000'000)
                        .bytes();
  int64_t in = 0, in_sum = 0, out_count = 0, out_sum = 0;
  for (const ZenginLine& l : lines) {
    out += Rec('2')
               .Num(1, 8, l.reference)
               .Raw(9, l.date)
               .Raw(15, l.date)
               .Num(21, 1, l.direction)
               .Raw(22, l.direction == 1 ? "11" : "14")
               .Num(24, 12, l.amount)
               .Num(36, 12, 0)
               .Text(81, l.payer)
               .Text(129, "ﾐﾂｲｽﾐﾄﾓ")
               .Text(159, "ﾌﾘｺﾐ")
               .bytes();
    if (l.direction == 1) {
      ++in;
      in_sum += l.amount;
    } else {
      ++out_count;
      out_sum += l.amount;
    }
  }
  out += Rec('8')
             .Num(1, 6, in)
             .Num(7, 13, in_sum)
             .Num(20, 6, out_count)
             .Num(26, 13, out_sum)
             .Raw(39, "1")
             .Num(40, 14, 5'000'000 + in_sum - out_sum)
             .Num(54, 7, static_cast<int64_t>(lines.size()))
             .bytes();
  return out + Rec('9').bytes();
}

// Plain kana the bank prints alike in both widths (no small kana, no long vowels), so names
// built from them never fold into one another.
const std::vector<std::pair<std::string, std::string>>& Kana() {
  static const auto* kana = new std::vector<std::pair<std::string, std::string>>{
      {"ア", "ｱ"}, {"イ", "ｲ"}, {"ウ", "ｳ"}, {"エ", "ｴ"}, {"オ", "ｵ"}, {"カ", "ｶ"}, {"キ", "ｷ"},
      {"ケ", "ｹ"}, {"コ", "ｺ"}, {"サ", "ｻ"}, {"シ", "ｼ"}, {"ス", "ｽ"}, {"セ", "ｾ"}, {"ソ", "ｿ"},
      {"タ", "ﾀ"}, {"チ", "ﾁ"}, {"テ", "ﾃ"}, {"ト", "ﾄ"}, {"ナ", "ﾅ"}, {"ニ", "ﾆ"}};
  return *kana;
}

class PaymentsTest : public BillingServiceTest {
 protected:
  // A customer whose name the bank prints as `payer` (half-width kana with the 法人略語).
  struct Payer {
    customer::v1::Customer customer;
    std::string payer;
  };

  // Customer `i`: a three-kana body; even ones are 株式会社X (printed ｶ)X), odd ones X株式会社
  // (printed X(ｶ). The kana (フリガナ) is the body in full width.
  Payer MakePayer(int i) {
    const auto& k = Kana();
    const auto& a = k[(i * 7 + 3) % k.size()];
    const auto& b = k[i % k.size()];
    const auto& c = k[(i / k.size()) % k.size()];
    const std::string full = a.first + b.first + c.first;
    const std::string half = a.second + b.second + c.second;
    customer::v1::Customer cust =
        Corporation(i % 2 == 0 ? "株式会社" + full : full + "株式会社", 0, 1, 0);
    cust.set_name_kana(full);
    Payer p;
    p.customer = MustCreateCustomer(cust);
    p.payer = i % 2 == 0 ? "ｶ)" + half : half + "(ｶ";
    return p;
  }

  // One invoice per (issue date, amount excluding tax) for `c`, from a split plan of one case
  // whose entries are each invoiced alone; in the order given. Standard rate, floor.
  struct Issued {
    int64_t project_id = 0;
    std::vector<v1::Invoice> invoices;
  };
  Issued IssueInvoices(const customer::v1::Customer& c,
                       const std::vector<std::pair<common::v1::Date, int64_t>>& items) {
    Issued out;
    project::v1::Project p = ProspectCase("保守契約", c);
    out.project_id = p.id();
    std::vector<v1::PlannedEntry> planned;
    for (const auto& [date, amount] : items) planned.push_back(Planned(date, date, amount));
    v1::BillingPlan plan = MustSetPlan(SplitPlan(p.id(), planned));
    MakeReady(plan);
    for (const auto& [date, amount] : items) {
      int64_t entry_id = 0;
      for (const auto& e : plan.entries()) {
        if (e.amount() == amount && DateString(e.billing_date()) == DateString(date)) {
          entry_id = e.id();
        }
      }
      absl::StatusOr<v1::Invoice> inv = Issue(c.id(), date, {entry_id});
      EXPECT_TRUE(inv.ok()) << inv.status();
      out.invoices.push_back(inv.value_or(v1::Invoice()));
    }
    return out;
  }

  // ---- calls (accounting by default) ----

  absl::StatusOr<v1::Payment> Record(common::v1::Date date, int64_t amount,
                                     const std::string& payer, const std::string& request_id = "",
                                     const std::string& token = "") {
    v1::RecordPaymentRequest req;
    req.set_request_id(request_id.empty() ? NextRequestId() : request_id);
    *req.mutable_payment_date() = date;
    req.set_amount(amount);
    req.set_payer_name(payer);
    return Call(&Stub::RecordPayment, req, token.empty() ? accounting_ : token);
  }
  absl::StatusOr<v1::ImportBankStatementResponse> Import(v1::BankStatementFormat format,
                                                         const std::string& content,
                                                         const std::string& account,
                                                         const std::string& request_id = "") {
    v1::ImportBankStatementRequest req;
    req.set_request_id(request_id.empty() ? NextRequestId() : request_id);
    req.set_format(format);
    req.set_content(content);
    req.set_account(account);
    return Call(&Stub::ImportBankStatement, req, accounting_);
  }
  absl::StatusOr<v1::Payment> Allocate(int64_t payment_id, int64_t customer_id,
                                       const std::vector<v1::AllocationLine>& lines,
                                       int64_t credit = 0, const std::string& etag = "",
                                       const std::string& request_id = "") {
    v1::AllocatePaymentRequest req;
    req.set_request_id(request_id.empty() ? NextRequestId() : request_id);
    req.set_payment_id(payment_id);
    req.set_customer_id(customer_id);
    for (const auto& l : lines) *req.add_allocations() = l;
    req.set_credit(credit);
    req.set_etag(etag);
    return Call(&Stub::AllocatePayment, req, accounting_);
  }
  absl::StatusOr<v1::Payment> Unallocate(int64_t payment_id, const std::string& reason = "誤消込") {
    v1::UnallocatePaymentRequest req;
    req.set_payment_id(payment_id);
    req.set_reason(reason);
    return Call(&Stub::UnallocatePayment, req, accounting_);
  }
  absl::StatusOr<v1::Invoice> WriteOff(int64_t id, const std::string& reason = "破産手続開始") {
    v1::WriteOffInvoiceRequest req;
    req.set_id(id);
    req.set_reason(reason);
    return Call(&Stub::WriteOffInvoice, req, accounting_);
  }
  v1::Invoice MustGetInvoice(int64_t id) {
    absl::StatusOr<v1::Invoice> inv = GetInvoice(id);
    EXPECT_TRUE(inv.ok()) << inv.status();
    return inv.value_or(v1::Invoice());
  }
  // Every invoice's (paid, balance), by id.
  std::map<int64_t, std::pair<int64_t, int64_t>> Balances() {
    std::map<int64_t, std::pair<int64_t, int64_t>> out;
    v1::ListInvoicesRequest req;
    req.set_page_size(1000);
    for (int pages = 0; pages < 10; ++pages) {
      absl::StatusOr<v1::ListInvoicesResponse> page = Call(&Stub::ListInvoices, req);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const auto& i : page->invoices()) out[i.id()] = {i.paid_amount(), i.balance()};
      if (page->next_page_token().empty()) break;
      req.set_page_token(page->next_page_token());
    }
    return out;
  }
  std::vector<v1::EntryStatus> EntryStatuses(int64_t project_id) {
    std::vector<v1::EntryStatus> out;
    for (const auto& e : EntriesOfCase(project_id)) out.push_back(e.status());
    return out;
  }
  static v1::AllocationLine Line(int64_t invoice_id, int64_t amount, int64_t fee = 0) {
    v1::AllocationLine l;
    l.set_invoice_id(invoice_id);
    l.set_amount(amount);
    l.set_fee(fee);
    return l;
  }
  int64_t PaymentRows() const { return Count("SELECT count(*) FROM billing.payments"); }
};

// ---- the 1,000-line statement ----

TEST_F(PaymentsTest, ThousandLineCp932StatementReconcilesAsConstructedAndReplaysAsNothing) {
  // 50 customers with two invoices each: 2019-05-15 (due 06-30) and 2019-06-14 (due 07-31),
  // so the first is the older. Amounts excluding tax differ per customer by 1,000 yen, and
  // every pair of balances differs by far more than the fee tolerance (880), so each line
  // below has exactly one reading.
  constexpr int kCustomers = 50;
  constexpr int kInstallments = 80;
  struct Book {
    Payer payer;
    Issued issued;
    int64_t t1 = 0, t2 = 0;  // invoice totals
  };
  std::vector<Book> books;
  for (int i = 0; i < kCustomers; ++i) {
    Book b;
    ASSERT_NO_FATAL_FAILURE(b.payer = MakePayer(i));
    ASSERT_NO_FATAL_FAILURE(
        b.issued = IssueInvoices(b.payer.customer, {{D(2019, 5, 15), 100'000 + 1'000 * i},
                                                    {D(2019, 6, 14), 200'000 + 1'000 * i}}));
    ASSERT_EQ(b.issued.invoices.size(), 2u);
    b.t1 = b.issued.invoices[0].total();
    b.t2 = b.issued.invoices[1].total();
    ASSERT_EQ(b.t1, (100'000 + 1'000 * i) * 11 / 10);  // 10%, exact
    ASSERT_EQ(DateString(b.issued.invoices[0].due_date()), "2019-06-30");
    ASSERT_EQ(DateString(b.issued.invoices[1].due_date()), "2019-07-31");
    books.push_back(std::move(b));
  }

  // Each customer's lines in the order it pays, with what reconciliation must make of each
  // and what must be left open. Scenario by i % 5:
  //  0: 80 installments of 1,000 (partial, oldest invoice first), then the first invoice's
  //     rest exactly (matched), the second less 500 (matched with a 500 fee), then 3,000 more
  //     with nothing open (unmatched, NO_OPEN_INVOICES);
  //  1: both less 5,000 (partial: the first settled, the second keeps 5,000), then 3,000
  //     (partial: 2,000 stays open);
  //  2: both and 7,777 more (overpayment: 7,777 credited);
  //  3: both less 660 (matched with a fee on the newer), then 2,000 (unmatched);
  //  4: the newer invoice exactly (matched to it although older is open), then the older.
  struct Expected {
    v1::MatchKind kind;
    std::string reason;  // for unmatched lines
  };
  std::vector<std::vector<std::pair<CsvLine, Expected>>> scripts(kCustomers);
  std::map<int64_t, int64_t> expected_balance;  // invoice id -> balance after the import
  std::map<int64_t, int64_t> expected_credit;   // customer id -> credit
  const Expected partial{v1::MATCH_KIND_PARTIAL, ""};
  const Expected matched{v1::MATCH_KIND_MATCHED, ""};
  const Expected with_fee{v1::MATCH_KIND_MATCHED_WITH_FEE, ""};
  const Expected nothing_open{v1::MATCH_KIND_UNMATCHED, "NO_OPEN_INVOICES"};
  for (int i = 0; i < kCustomers; ++i) {
    const Book& b = books[i];
    auto add = [&](int64_t amount, const Expected& e) {
      scripts[i].push_back({CsvLine{D(2019, 7, 1), amount, b.payer.payer, ""}, e});
    };
    const int64_t inv1 = b.issued.invoices[0].id(), inv2 = b.issued.invoices[1].id();
    expected_balance[inv1] = 0;
    expected_balance[inv2] = 0;
    switch (i % 5) {
      case 0:
        for (int k = 0; k < kInstallments; ++k) add(1'000, partial);
        add(b.t1 - kInstallments * 1'000, matched);
        add(b.t2 - 500, with_fee);
        add(3'000, nothing_open);
        break;
      case 1:
        add(b.t1 + b.t2 - 5'000, partial);
        add(3'000, partial);
        expected_balance[inv2] = 2'000;
        break;
      case 2:
        add(b.t1 + b.t2 + 7'777, {v1::MATCH_KIND_OVERPAYMENT, ""});
        expected_credit[b.payer.customer.id()] = 7'777;
        break;
      case 3:
        add(b.t1 + b.t2 - 660, with_fee);
        add(2'000, nothing_open);
        break;
      case 4:
        add(b.t2, matched);
        add(b.t1, matched);
        break;
    }
  }
  // Interleave the customers' scripts (each keeps its own order), then strangers and cash.
  std::vector<std::pair<CsvLine, Expected>> lines;
  for (size_t k = 0;; ++k) {
    bool any = false;
    for (auto& s : scripts) {
      if (k < s.size()) {
        lines.push_back(s[k]);
        any = true;
      }
    }
    if (!any) break;
  }
  for (int n = 0; lines.size() < 1'000; ++n) {
    if (n % 5 == 4) {
      lines.push_back({CsvLine{D(2019, 7, 1), 10'000 + n, "", ""},
                       {v1::MATCH_KIND_UNMATCHED, "NO_PAYER_NAME"}});
    } else {
      lines.push_back({CsvLine{D(2019, 7, 1), 10'000 + n, absl::StrCat("ﾐｶｸﾆﾝ ﾀﾛｳ", n), ""},
                       {v1::MATCH_KIND_UNMATCHED, "UNKNOWN_PAYER"}});
    }
  }
  ASSERT_EQ(lines.size(), 1'000u);
  // Dates rise through the file (07-01 .. 07-10, not after the clock's today) and each line
  // carries its number as the bank's reference.
  std::vector<CsvLine> csv_lines;
  std::map<v1::MatchKind, int> expected_counts;
  for (size_t k = 0; k < lines.size(); ++k) {
    lines[k].first.date = D(2019, 7, 1 + static_cast<int>(k / 100));
    lines[k].first.reference = absl::StrCat("REF", k);
    csv_lines.push_back(lines[k].first);
    ++expected_counts[lines[k].second.kind];
  }
  // The counts the construction gives (a check on the arithmetic above as much as on the
  // service): 800 + 20 partial, 30 matched, 20 with a fee, 10 over, 120 unmatched.
  ASSERT_EQ(expected_counts[v1::MATCH_KIND_PARTIAL], 10 * kInstallments + 20);
  ASSERT_EQ(expected_counts[v1::MATCH_KIND_UNMATCHED], 120);

  const std::string content = BankCsv(csv_lines);
  ASSERT_FALSE(csv::IsValidUtf8(content));  // really CP932
  const std::string request_id = NextRequestId();
  absl::StatusOr<v1::ImportBankStatementResponse> imported =
      Import(v1::BANK_STATEMENT_FORMAT_CSV, content, "0005-001-1-7654321", request_id);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->line_count(), 1'000);
  EXPECT_EQ(imported->imported_count(), 1'000);
  EXPECT_EQ(imported->duplicate_count(), 0);
  EXPECT_EQ(imported->matched_count(), expected_counts[v1::MATCH_KIND_MATCHED]);
  EXPECT_EQ(imported->matched_with_fee_count(), expected_counts[v1::MATCH_KIND_MATCHED_WITH_FEE]);
  EXPECT_EQ(imported->partial_count(), expected_counts[v1::MATCH_KIND_PARTIAL]);
  EXPECT_EQ(imported->overpayment_count(), expected_counts[v1::MATCH_KIND_OVERPAYMENT]);
  EXPECT_EQ(imported->unmatched_count(), expected_counts[v1::MATCH_KIND_UNMATCHED]);
  ASSERT_EQ(imported->payments_size(), 1'000);
  int mismatches = 0;
  for (int k = 0; k < 1'000; ++k) {
    const v1::Payment& p = imported->payments(k);
    const Expected& e = lines[k].second;
    if (p.match_kind() != e.kind || p.unmatched_reason() != e.reason ||
        p.amount() != lines[k].first.amount || p.reference() != lines[k].first.reference ||
        p.source() != v1::PAYMENT_SOURCE_CSV) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << "line " << k << " (" << lines[k].first.payer << ", "
                      << lines[k].first.amount << "): expected " << v1::MatchKind_Name(e.kind)
                      << " " << e.reason << ", got " << p.ShortDebugString();
      }
    }
    // Every reconciled payment is spent exactly; an unmatched one waits whole.
    if (e.kind == v1::MATCH_KIND_UNMATCHED) {
      EXPECT_EQ(p.status(), v1::PAYMENT_STATUS_UNMATCHED);
      EXPECT_EQ(p.unallocated(), p.amount());
    } else {
      EXPECT_EQ(p.status(), v1::PAYMENT_STATUS_ALLOCATED);
      EXPECT_EQ(p.unallocated(), 0);
    }
  }
  EXPECT_EQ(mismatches, 0);

  // Balances as constructed; settled invoices have their entries PAID, the open one BILLED.
  std::map<int64_t, std::pair<int64_t, int64_t>> after = Balances();
  for (const auto& [id, balance] : expected_balance) {
    EXPECT_EQ(after[id].second, balance) << "invoice " << id;
  }
  for (int i = 0; i < kCustomers; ++i) {
    const Book& b = books[i];
    const v1::Invoice second = MustGetInvoice(b.issued.invoices[1].id());
    if (i % 5 == 1) {
      EXPECT_EQ(second.payment_status(), v1::INVOICE_PAYMENT_STATUS_PARTIALLY_PAID);
      EXPECT_EQ(second.paid_amount(), b.t2 - 2'000);
      EXPECT_EQ(EntryStatuses(b.issued.project_id),
                (std::vector<v1::EntryStatus>{v1::ENTRY_STATUS_PAID, v1::ENTRY_STATUS_BILLED}));
    } else {
      EXPECT_EQ(second.payment_status(), v1::INVOICE_PAYMENT_STATUS_PAID);
      EXPECT_EQ(second.paid_amount(), b.t2);  // cash plus the fee booked
      EXPECT_EQ(EntryStatuses(b.issued.project_id),
                (std::vector<v1::EntryStatus>{v1::ENTRY_STATUS_PAID, v1::ENTRY_STATUS_PAID}));
    }
  }
  // Fees and credits as constructed.
  EXPECT_EQ(Count("SELECT coalesce(sum(fee), 0) FROM billing.payment_allocations"),
            10 * 500 + 10 * 660);
  EXPECT_EQ(Count("SELECT coalesce(sum(credit), 0) FROM billing.payments"), 10 * 7'777);
  for (const auto& [customer_id, credit] : expected_credit) {
    EXPECT_EQ(Count(absl::StrCat("SELECT sum(credit) FROM billing.payments WHERE customer_id = ",
                                 customer_id)),
              credit);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM billing.payments WHERE status = 1"), 120);

  // A retry with the same request_id answers the same; the same file again imports nothing
  // and changes no balance.
  absl::StatusOr<v1::ImportBankStatementResponse> retried =
      Import(v1::BANK_STATEMENT_FORMAT_CSV, content, "0005-001-1-7654321", request_id);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->payments(0).id(), imported->payments(0).id());
  EXPECT_EQ(retried->imported_count(), 1'000);
  absl::StatusOr<v1::ImportBankStatementResponse> replayed =
      Import(v1::BANK_STATEMENT_FORMAT_CSV, content, "0005-001-1-7654321");
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->line_count(), 1'000);
  EXPECT_EQ(replayed->imported_count(), 0);
  EXPECT_EQ(replayed->duplicate_count(), 1'000);
  EXPECT_EQ(replayed->payments_size(), 0);
  EXPECT_EQ(PaymentRows(), 1'000);
  EXPECT_EQ(Balances(), after);

  // The queue lists the unmatched ones, newest first, page by page.
  v1::ListPaymentsRequest queue;
  queue.add_statuses(v1::PAYMENT_STATUS_UNMATCHED);
  queue.set_page_size(50);
  int listed = 0;
  std::string last_date = "9999-99-99";
  for (int pages = 0; pages < 10; ++pages) {
    absl::StatusOr<v1::ListPaymentsResponse> page = Call(&Stub::ListPayments, queue, staff_);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& p : page->payments()) {
      EXPECT_EQ(p.status(), v1::PAYMENT_STATUS_UNMATCHED);
      EXPECT_LE(DateString(p.payment_date()), last_date);
      last_date = DateString(p.payment_date());
      ++listed;
    }
    if (page->next_page_token().empty()) break;
    queue.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(listed, 120);
}

// ---- 全銀協 ----

TEST_F(PaymentsTest, ZenginStatementImportsDepositsOnceAndRefusesFutureDates) {
  Issued acme;
  ASSERT_NO_FATAL_FAILURE(acme = IssueInvoices(acme_, {{D(2019, 6, 3), 50'000}}));
  const int64_t total = acme.invoices[0].total();  // 55,000
  const std::string file = ZenginFile({
      {1, "010705", 1, total - 440, "ｶ)ｱｸﾒ"},  // less the transfer fee
      {2, "010705", 2, 12'345, ""},            // a withdrawal: no payment
      {3, "010708", 1, 8'000, "ｷﾀｼﾖｳｼﾞ(ｶ"},    // 北商事株式会社 has no kana: unknown
  });
  absl::StatusOr<v1::ImportBankStatementResponse> r =
      Import(v1::BANK_STATEMENT_FORMAT_ZENGIN, file, "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->line_count(), 2);
  EXPECT_EQ(r->imported_count(), 2);
  EXPECT_EQ(r->matched_with_fee_count(), 1);
  EXPECT_EQ(r->unmatched_count(), 1);
  ASSERT_EQ(r->payments_size(), 2);
  const v1::Payment& paid = r->payments(0);
  EXPECT_EQ(paid.source(), v1::PAYMENT_SOURCE_ZENGIN);
  EXPECT_EQ(DateString(paid.payment_date()), "2019-07-05");
  EXPECT_EQ(paid.payer_name(), "ｶ)ｱｸﾒ");
  EXPECT_EQ(paid.reference(), "00000001");
  EXPECT_EQ(paid.customer_id(), acme_.id());
  ASSERT_EQ(paid.allocations_size(), 1);
  EXPECT_EQ(paid.allocations(0).invoice_id(), acme.invoices[0].id());
  EXPECT_EQ(paid.allocations(0).invoice_number(), acme.invoices[0].number());
  EXPECT_EQ(paid.allocations(0).amount(), total - 440);
  EXPECT_EQ(paid.allocations(0).fee(), 440);
  EXPECT_EQ(r->payments(1).unmatched_reason(), "UNKNOWN_PAYER");
  EXPECT_EQ(MustGetInvoice(acme.invoices[0].id()).payment_status(),
            v1::INVOICE_PAYMENT_STATUS_PAID);
  EXPECT_EQ(EntryStatuses(acme.project_id), std::vector<v1::EntryStatus>{v1::ENTRY_STATUS_PAID});
  EXPECT_EQ(Count("SELECT count(*) FROM billing.bank_imports WHERE source = 2 AND "
                  "account = '0001-123-1-0001234567' AND imported_count = 2"),
            1);

  absl::StatusOr<v1::ImportBankStatementResponse> again =
      Import(v1::BANK_STATEMENT_FORMAT_ZENGIN, file, "");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->imported_count(), 0);
  EXPECT_EQ(again->duplicate_count(), 2);
  EXPECT_EQ(PaymentRows(), 2);

  // 令和元年12月 is after the clock's today (2019-07-10): a 西暦 file read as 和暦 looks so.
  absl::StatusOr<v1::ImportBankStatementResponse> future =
      Import(v1::BANK_STATEMENT_FORMAT_ZENGIN, ZenginFile({{9, "011210", 1, 1'000, "ｶ)ｱｸﾒ"}}), "");
  EXPECT_TRUE(IsInvalidField(future.status(), "content", "DATE_IN_FUTURE"));
  // A broken file names the record and imports nothing.
  std::string broken = file;
  broken[200 + 21] = '7';  // the first data record's 入払区分
  absl::StatusOr<v1::ImportBankStatementResponse> bad =
      Import(v1::BANK_STATEMENT_FORMAT_ZENGIN, broken, "");
  EXPECT_TRUE(IsInvalidField(bad.status(), "content")) << bad.status();
  EXPECT_EQ(PaymentRows(), 2);
}

// ---- people ----

TEST_F(PaymentsTest, ManualAllocationLearnsThePayerAndUnallocationRestoresEverything) {
  Issued acme;
  ASSERT_NO_FATAL_FAILURE(acme = IssueInvoices(acme_, {{D(2019, 6, 3), 100'000}}));
  const v1::Invoice& inv = acme.invoices[0];
  ASSERT_EQ(inv.total(), 110'000);
  EXPECT_EQ(inv.payment_status(), v1::INVOICE_PAYMENT_STATUS_UNPAID);
  EXPECT_EQ(inv.balance(), 110'000);

  // The president pays from his own account: nobody's name.
  absl::StatusOr<v1::Payment> first = Record(D(2019, 7, 1), 50'000, "ﾔﾏﾀﾞ ﾀﾛｳ");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->status(), v1::PAYMENT_STATUS_UNMATCHED);
  EXPECT_EQ(first->unmatched_reason(), "UNKNOWN_PAYER");
  EXPECT_EQ(first->source(), v1::PAYMENT_SOURCE_MANUAL);

  // A stale etag is refused; then a person allocates it to acme's invoice.
  absl::StatusOr<v1::Payment> stale =
      Allocate(first->id(), acme_.id(), {Line(inv.id(), 50'000)}, 0, "\"7\"");
  EXPECT_TRUE(IsError(stale.status(), absl::StatusCode::kAborted, "ETAG_MISMATCH"));
  const std::string allocate_id = NextRequestId();
  absl::StatusOr<v1::Payment> allocated =
      Allocate(first->id(), acme_.id(), {Line(inv.id(), 50'000)}, 0, first->etag(), allocate_id);
  ASSERT_TRUE(allocated.ok()) << allocated.status();
  EXPECT_EQ(allocated->status(), v1::PAYMENT_STATUS_ALLOCATED);
  EXPECT_EQ(allocated->match_kind(), v1::MATCH_KIND_MANUAL);
  EXPECT_EQ(allocated->customer_id(), acme_.id());
  ASSERT_EQ(allocated->allocations_size(), 1);
  EXPECT_TRUE(allocated->allocations(0).manual());
  // A retry of the same allocation answers the same and books nothing more.
  absl::StatusOr<v1::Payment> retry =
      Allocate(first->id(), acme_.id(), {Line(inv.id(), 50'000)}, 0, first->etag(), allocate_id);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->etag(), allocated->etag());
  v1::Invoice half = MustGetInvoice(inv.id());
  EXPECT_EQ(half.payment_status(), v1::INVOICE_PAYMENT_STATUS_PARTIALLY_PAID);
  EXPECT_EQ(half.paid_amount(), 50'000);
  EXPECT_EQ(half.balance(), 60'000);
  EXPECT_EQ(EntryStatuses(acme.project_id), std::vector<v1::EntryStatus>{v1::ENTRY_STATUS_BILLED});

  // The next payment from that name matches acme by itself, settles the invoice, and its
  // entries become PAID. A paid invoice can no longer be cancelled.
  absl::StatusOr<v1::Payment> second = Record(D(2019, 7, 8), 60'000, "ﾔﾏﾀﾞ ﾀﾛｳ");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->match_kind(), v1::MATCH_KIND_MATCHED);
  EXPECT_EQ(second->customer_id(), acme_.id());
  v1::Invoice full = MustGetInvoice(inv.id());
  EXPECT_EQ(full.payment_status(), v1::INVOICE_PAYMENT_STATUS_PAID);
  EXPECT_EQ(full.balance(), 0);
  EXPECT_EQ(EntryStatuses(acme.project_id), std::vector<v1::EntryStatus>{v1::ENTRY_STATUS_PAID});
  EXPECT_TRUE(IsError(Cancel(inv.id(), "二重発行", accounting_).status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_PAID"));

  // Reversing the second restores the balance and the entries; the rows stay, marked.
  absl::StatusOr<v1::Payment> back = Unallocate(second->id());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->status(), v1::PAYMENT_STATUS_UNMATCHED);
  EXPECT_EQ(back->unmatched_reason(), "UNALLOCATED");
  EXPECT_EQ(back->allocations_size(), 0);
  EXPECT_EQ(back->unallocated(), 60'000);
  EXPECT_EQ(MustGetInvoice(inv.id()).balance(), 60'000);
  EXPECT_EQ(EntryStatuses(acme.project_id), std::vector<v1::EntryStatus>{v1::ENTRY_STATUS_BILLED});
  EXPECT_EQ(Count("SELECT count(*) FROM billing.payment_allocations"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.payment_allocations WHERE reversed AND "
                  "reverse_reason = '誤消込'"),
            1);
  EXPECT_TRUE(IsError(Unallocate(second->id()).status(), absl::StatusCode::kFailedPrecondition,
                      "NOTHING_ALLOCATED"));

  // Reversing the person's own match takes back what it taught: the name is unknown again.
  ASSERT_TRUE(Unallocate(first->id()).ok());
  v1::Invoice open = MustGetInvoice(inv.id());
  EXPECT_EQ(open.payment_status(), v1::INVOICE_PAYMENT_STATUS_UNPAID);
  EXPECT_EQ(open.balance(), 110'000);
  absl::StatusOr<v1::Payment> third = Record(D(2019, 7, 9), 110'000, "ﾔﾏﾀﾞ ﾀﾛｳ");
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->unmatched_reason(), "UNKNOWN_PAYER");

  // Audited under the payment's and the invoice's resource ids.
  EXPECT_GE(Count(absl::StrCat("SELECT count(*) FROM billing.audit_events WHERE resource_id = "
                               "'payments/",
                               first->id(), "'")),
            3);
  EXPECT_GE(Count(absl::StrCat("SELECT count(*) FROM billing.audit_events WHERE resource_id = "
                               "'invoices/",
                               inv.id(), "' AND change_json ? 'paid_amount'")),
            4);
}

TEST_F(PaymentsTest, AllocationWithCreditAndItsRefusals) {
  Issued acme, kita;
  ASSERT_NO_FATAL_FAILURE(acme = IssueInvoices(acme_, {{D(2019, 6, 3), 10'000}}));
  ASSERT_NO_FATAL_FAILURE(kita = IssueInvoices(kita_, {{D(2019, 6, 3), 20'000}}));
  absl::StatusOr<v1::Payment> p = Record(D(2019, 7, 2), 15'000, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->unmatched_reason(), "NO_PAYER_NAME");
  const int64_t acme_inv = acme.invoices[0].id(), kita_inv = kita.invoices[0].id();

  EXPECT_TRUE(IsError(Allocate(kUnknownId, acme_.id(), {Line(acme_inv, 1)}).status(),
                      absl::StatusCode::kNotFound, "PAYMENT_NOT_FOUND"));
  EXPECT_TRUE(IsError(Allocate(p->id(), acme_.id(), {Line(kUnknownId, 1)}).status(),
                      absl::StatusCode::kNotFound, "INVOICE_NOT_FOUND"));
  EXPECT_EQ(Allocate(p->id(), kUnknownId, {Line(acme_inv, 1)}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsError(Allocate(p->id(), acme_.id(), {Line(kita_inv, 1'000)}).status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_NOT_OPEN"));
  EXPECT_TRUE(IsInvalidField(Allocate(p->id(), acme_.id(), {Line(acme_inv, 11'001)}).status(),
                             "allocations[0].amount", "EXCEEDS_BALANCE"));
  EXPECT_TRUE(IsInvalidField(Allocate(p->id(), acme_.id(), {Line(acme_inv, 0)}).status(),
                             "allocations[0].amount", "AMOUNT_NOT_POSITIVE"));
  EXPECT_TRUE(
      IsInvalidField(Allocate(p->id(), acme_.id(), {Line(acme_inv, 11'000)}, 5'000).status(),
                     "allocations[0].amount", "EXCEEDS_PAYMENT"));
  EXPECT_TRUE(
      IsInvalidField(Allocate(p->id(), acme_.id(), {}).status(), "allocations", "REQUIRED"));
  EXPECT_TRUE(IsInvalidField(Allocate(p->id(), acme_.id(), {Line(0, 1)}).status(),
                             "allocations[0].invoice_id", "REQUIRED"));
  EXPECT_EQ(Count("SELECT count(*) FROM billing.payment_allocations"), 0);

  // The invoice less a fee a person accepts, the rest kept as credit.
  absl::StatusOr<v1::Payment> done =
      Allocate(p->id(), acme_.id(), {Line(acme_inv, 10'500, 500)}, 4'500);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->status(), v1::PAYMENT_STATUS_ALLOCATED);
  EXPECT_EQ(done->credit(), 4'500);
  EXPECT_EQ(done->unallocated(), 0);
  EXPECT_EQ(MustGetInvoice(acme_inv).payment_status(), v1::INVOICE_PAYMENT_STATUS_PAID);
  EXPECT_EQ(EntryStatuses(acme.project_id), std::vector<v1::EntryStatus>{v1::ENTRY_STATUS_PAID});
  // Nothing is left to give anyone, and it cannot go to another customer.
  EXPECT_TRUE(IsError(Allocate(p->id(), kita_.id(), {Line(kita_inv, 1)}).status(),
                      absl::StatusCode::kFailedPrecondition, "OTHER_CUSTOMER"));
  // Only accounting and admin write.
  v1::AllocatePaymentRequest req;
  req.set_request_id(NextRequestId());
  req.set_payment_id(p->id());
  req.set_customer_id(acme_.id());
  req.set_credit(1);
  EXPECT_EQ(Call(&Stub::AllocatePayment, req, staff_).status().code(),
            absl::StatusCode::kPermissionDenied);
}

// ---- receivables ----

TEST_F(PaymentsTest, OverdueListAndAgingMatchHandComputedValues) {
  // acme: 月末締め翌月末払い; kita: 20日締め翌々月10日払い.
  Issued acme, kita;
  ASSERT_NO_FATAL_FAILURE(
      acme = IssueInvoices(
          acme_, {{D(2019, 3, 15), 10'000}, {D(2019, 4, 10), 20'000}, {D(2019, 6, 10), 30'000}}));
  ASSERT_NO_FATAL_FAILURE(
      kita = IssueInvoices(
          kita_, {{D(2019, 5, 15), 40'000}, {D(2019, 5, 25), 50'000}, {D(2019, 7, 5), 60'000}}));
  const v1::Invoice &f = acme.invoices[0], &a = acme.invoices[1], &b = acme.invoices[2];
  const v1::Invoice &d = kita.invoices[0], &c = kita.invoices[1], &e = kita.invoices[2];
  EXPECT_EQ(DateString(f.due_date()), "2019-04-30");
  EXPECT_EQ(DateString(a.due_date()), "2019-05-31");
  EXPECT_EQ(DateString(b.due_date()), "2019-07-31");
  EXPECT_EQ(DateString(d.due_date()), "2019-07-10");  // closes 05-20
  EXPECT_EQ(DateString(c.due_date()), "2019-08-10");  // closes 06-20
  EXPECT_EQ(DateString(e.due_date()), "2019-09-10");  // closes 07-20
  // 5,000 from acme settles part of its oldest invoice (f: 11,000 → 6,000 open).
  absl::StatusOr<v1::Payment> p = Record(D(2019, 7, 10), 5'000, "ｶ)ｱｸﾒ");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->match_kind(), v1::MATCH_KIND_PARTIAL);
  ASSERT_EQ(p->allocations(0).invoice_id(), f.id());

  // On 2019-08-15: f 107 days, a 76, d 36, b 15, c 5 past due; e not yet due.
  v1::ListOverdueInvoicesRequest req;
  *req.mutable_as_of() = D(2019, 8, 15);
  req.set_page_size(2);
  std::vector<std::tuple<int64_t, int64_t, int>> got;  // id, balance, days
  for (int pages = 0; pages < 5; ++pages) {
    absl::StatusOr<v1::ListOverdueInvoicesResponse> page =
        Call(&Stub::ListOverdueInvoices, req, service_token_);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(DateString(page->as_of()), "2019-08-15");
    for (const auto& o : page->invoices())
      got.emplace_back(o.invoice_id(), o.balance(), o.days_past_due());
    if (page->next_page_token().empty()) break;
    req.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(got, (std::vector<std::tuple<int64_t, int64_t, int>>{{f.id(), 6'000, 107},
                                                                 {a.id(), 22'000, 76},
                                                                 {d.id(), 44'000, 36},
                                                                 {b.id(), 33'000, 15},
                                                                 {c.id(), 55'000, 5}}));
  v1::ListOverdueInvoicesRequest only_kita;
  *only_kita.mutable_as_of() = D(2019, 7, 10);  // d's due day itself: not overdue yet
  only_kita.set_customer_id(kita_.id());
  absl::StatusOr<v1::ListOverdueInvoicesResponse> none =
      Call(&Stub::ListOverdueInvoices, only_kita);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->invoices_size(), 0);

  v1::GetAgingSummaryRequest aging_req;
  *aging_req.mutable_as_of() = D(2019, 8, 15);
  absl::StatusOr<v1::AgingSummary> aging = Call(&Stub::GetAgingSummary, aging_req, service_token_);
  ASSERT_TRUE(aging.ok()) << aging.status();
  ASSERT_EQ(aging->rows_size(), 2);
  auto row = [](const v1::AgingRow& r) {
    return std::vector<int64_t>{r.customer_id(),   r.not_due(),       r.days_1_to_30(),
                                r.days_31_to_60(), r.days_61_to_90(), r.over_90_days(),
                                r.total(),         r.invoice_count()};
  };
  EXPECT_EQ(row(aging->rows(0)),
            (std::vector<int64_t>{acme_.id(), 0, 33'000, 0, 22'000, 6'000, 61'000, 3}));
  EXPECT_EQ(row(aging->rows(1)),
            (std::vector<int64_t>{kita_.id(), 66'000, 55'000, 44'000, 0, 0, 165'000, 3}));
  EXPECT_EQ(row(aging->totals()),
            (std::vector<int64_t>{0, 66'000, 88'000, 44'000, 22'000, 6'000, 226'000, 6}));

  // Writing f off takes it out of both.
  absl::StatusOr<v1::Invoice> off = WriteOff(f.id());
  ASSERT_TRUE(off.ok()) << off.status();
  aging_req.set_customer_id(acme_.id());
  aging = Call(&Stub::GetAgingSummary, aging_req);
  ASSERT_TRUE(aging.ok()) << aging.status();
  ASSERT_EQ(aging->rows_size(), 1);
  EXPECT_EQ(row(aging->rows(0)),
            (std::vector<int64_t>{acme_.id(), 0, 33'000, 0, 22'000, 0, 55'000, 2}));

  v1::ListOverdueInvoicesRequest bad;
  bad.mutable_as_of()->set_year(2019);
  bad.mutable_as_of()->set_month(13);
  bad.mutable_as_of()->set_day(1);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::ListOverdueInvoices, bad).status(), "as_of"));
  // Partners have no access.
  EXPECT_EQ(Call(&Stub::GetAgingSummary, aging_req, host_->Token(Role::kPartner, "p", "1"))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PaymentsTest, WriteOffMarksEntriesUncollectibleAndFreezesTheInvoice) {
  Issued acme;
  ASSERT_NO_FATAL_FAILURE(acme = IssueInvoices(acme_, {{D(2019, 5, 10), 100'000}}));
  const int64_t id = acme.invoices[0].id();
  absl::StatusOr<v1::Payment> p = Record(D(2019, 7, 1), 30'000, "ｶ)ｱｸﾒ");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->match_kind(), v1::MATCH_KIND_PARTIAL);

  EXPECT_TRUE(IsInvalidField(WriteOff(id, "").status(), "reason", "REQUIRED"));
  EXPECT_TRUE(
      IsError(WriteOff(kUnknownId).status(), absl::StatusCode::kNotFound, "INVOICE_NOT_FOUND"));
  v1::WriteOffInvoiceRequest stale;
  stale.set_id(id);
  stale.set_reason("x");
  stale.set_etag("\"1\"");  // the payment moved it on
  EXPECT_TRUE(IsError(Call(&Stub::WriteOffInvoice, stale, accounting_).status(),
                      absl::StatusCode::kAborted, "ETAG_MISMATCH"));

  absl::StatusOr<v1::Invoice> off = WriteOff(id);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->payment_status(), v1::INVOICE_PAYMENT_STATUS_WRITTEN_OFF);
  EXPECT_EQ(off->paid_amount(), 30'000);
  EXPECT_EQ(off->written_off_amount(), 80'000);
  EXPECT_EQ(off->balance(), 0);
  EXPECT_EQ(off->write_off_reason(), "破産手続開始");
  EXPECT_TRUE(off->has_write_off_time());
  EXPECT_EQ(EntryStatuses(acme.project_id),
            std::vector<v1::EntryStatus>{v1::ENTRY_STATUS_UNCOLLECTIBLE});
  EXPECT_TRUE(
      IsError(WriteOff(id).status(), absl::StatusCode::kFailedPrecondition, "ALREADY_WRITTEN_OFF"));
  EXPECT_TRUE(IsError(Unallocate(p->id()).status(), absl::StatusCode::kFailedPrecondition,
                      "INVOICE_WRITTEN_OFF"));
  EXPECT_TRUE(IsError(Cancel(id, "取消", accounting_).status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_PAID"));
  // Another payment from acme finds nothing open.
  absl::StatusOr<v1::Payment> late = Record(D(2019, 7, 2), 80'000, "ｶ)ｱｸﾒ");
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->unmatched_reason(), "NO_OPEN_INVOICES");
  EXPECT_EQ(late->customer_id(), acme_.id());

  // A cancelled invoice cannot be written off; an unpaid one can still be cancelled.
  Issued other;
  ASSERT_NO_FATAL_FAILURE(other = IssueInvoices(kita_, {{D(2019, 5, 10), 1'000}}));
  ASSERT_TRUE(Cancel(other.invoices[0].id(), "宛名誤り", accounting_).ok());
  EXPECT_TRUE(IsError(WriteOff(other.invoices[0].id()).status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_CANCELLED"));
}

// ---- concurrency, idempotency, input ----

TEST_F(PaymentsTest, TwoImportsAtOnceNeverOverAllocate) {
  std::vector<CsvLine> lines;
  std::vector<int64_t> invoice_ids;
  for (int i = 0; i < 8; ++i) {
    Payer p;
    ASSERT_NO_FATAL_FAILURE(p = MakePayer(100 + i));
    Issued issued;
    ASSERT_NO_FATAL_FAILURE(issued =
                                IssueInvoices(p.customer, {{D(2019, 6, 1), 10'000 + i * 1'000}}));
    invoice_ids.push_back(issued.invoices[0].id());
    lines.push_back({D(2019, 7, 3), issued.invoices[0].total(), p.payer, ""});
  }
  // The same payments in two statements of different accounts (so no line is a duplicate).
  const std::string content = BankCsv(lines);
  // Someone holds the first invoice, so both imports are surely in flight together: they
  // wait behind it (and then one behind the other) before it is let go.
  pqxx::connection blocker(db_.url());
  pqxx::work hold(blocker);
  hold.exec_params("SELECT id FROM billing.invoices WHERE id = $1 FOR UPDATE",
                   *std::min_element(invoice_ids.begin(), invoice_ids.end()));
  absl::StatusOr<v1::ImportBankStatementResponse> one, two;
  std::thread first([&] { one = Import(v1::BANK_STATEMENT_FORMAT_CSV, content, "account-a"); });
  std::thread second([&] { two = Import(v1::BANK_STATEMENT_FORMAT_CSV, content, "account-b"); });
  bool both_waiting = false;
  for (int polls = 0; polls < 3'000 && !both_waiting; ++polls) {
    both_waiting = Count(
                       "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                       "current_database() AND wait_event_type = 'Lock'") >= 2;
  }
  EXPECT_TRUE(both_waiting);
  hold.abort();
  first.join();
  second.join();
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(one->matched_count() + two->matched_count(), 8);
  EXPECT_EQ(one->unmatched_count() + two->unmatched_count(), 8);
  // Both reconciled on the invoices as read before either locked them; the one that locked
  // second found them paid and was reconciled (and stored) again: what is stored is what
  // the responses say.
  EXPECT_EQ(Count("SELECT count(*) FROM billing.payments WHERE status = 3 "
                  "AND allocated_amount = amount AND match_kind = 2"),
            8);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.payments WHERE status = 1 "
                  "AND allocated_amount = 0 AND unmatched_reason = 'NO_OPEN_INVOICES'"),
            8);
  for (int64_t id : invoice_ids) {
    const v1::Invoice inv = MustGetInvoice(id);
    EXPECT_EQ(inv.paid_amount(), inv.total()) << id;
    EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM billing.payment_allocations WHERE "
                                 "invoice_id = ",
                                 id)),
              1);
  }
}

TEST_F(PaymentsTest, ACustomerAddedOrRenamedAfterAnImportIsMatchedByTheNext) {
  // The names are kept between imports (payer_directory.h): what changed meanwhile must count.
  Payer first;
  ASSERT_NO_FATAL_FAILURE(first = MakePayer(300));
  Issued one;
  ASSERT_NO_FATAL_FAILURE(one = IssueInvoices(first.customer, {{D(2019, 6, 1), 10'000}}));
  absl::StatusOr<v1::ImportBankStatementResponse> before = Import(
      v1::BANK_STATEMENT_FORMAT_CSV,
      BankCsv({{D(2019, 7, 1), one.invoices[0].total(), first.payer, ""}}), "account-1");
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->matched_count(), 1);

  // A customer created afterwards, and the first one renamed (the old name no longer fits).
  Payer added;
  ASSERT_NO_FATAL_FAILURE(added = MakePayer(301));
  Issued two;
  ASSERT_NO_FATAL_FAILURE(two = IssueInvoices(added.customer, {{D(2019, 6, 1), 20'000}}));
  Issued three;
  ASSERT_NO_FATAL_FAILURE(three = IssueInvoices(first.customer, {{D(2019, 6, 2), 30'000}}));
  customer::v1::UpdateCustomerRequest rename;
  rename.mutable_customer()->set_id(first.customer.id());
  rename.mutable_customer()->set_name("株式会社ミドリヤマ");
  rename.mutable_customer()->set_name_kana("ミドリヤマ");
  rename.mutable_update_mask()->add_paths("name");
  rename.mutable_update_mask()->add_paths("name_kana");
  ASSERT_TRUE(CallOn(customer_stub_.get(), &CustomerStub::UpdateCustomer, rename,
                     customer_staff_)
                  .ok());
  absl::StatusOr<v1::ImportBankStatementResponse> after = Import(
      v1::BANK_STATEMENT_FORMAT_CSV,
      BankCsv({{D(2019, 7, 2), two.invoices[0].total(), added.payer, ""},
               {D(2019, 7, 2), three.invoices[0].total(), "ｶ)ﾐﾄﾞﾘﾔﾏ", ""},
               {D(2019, 7, 2), 999, first.payer, ""}}),
      "account-1");
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->payments_size(), 3);
  EXPECT_EQ(after->payments(0).customer_id(), added.customer.id());
  EXPECT_EQ(after->payments(0).match_kind(), v1::MATCH_KIND_MATCHED);
  EXPECT_EQ(after->payments(1).customer_id(), first.customer.id());
  EXPECT_EQ(after->payments(1).match_kind(), v1::MATCH_KIND_MATCHED);
  EXPECT_EQ(after->payments(2).customer_id(), 0);
  EXPECT_EQ(after->payments(2).unmatched_reason(), "UNKNOWN_PAYER");
}

TEST_F(PaymentsTest, RecordPaymentRetriesAnswerTheSamePayment) {
  const std::string id = NextRequestId();
  absl::StatusOr<v1::Payment> first = Record(D(2019, 7, 1), 12'345, "ﾀﾅｶ", id);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<v1::Payment> again = Record(D(2019, 7, 1), 12'345, "ﾀﾅｶ", id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id(), first->id());
  EXPECT_EQ(again->etag(), first->etag());
  EXPECT_EQ(PaymentRows(), 1);
  EXPECT_TRUE(IsInvalidField(Record(D(2019, 7, 1), 54'321, "ﾀﾅｶ", id).status(), "request_id",
                             "REQUEST_ID_REUSED"));
  EXPECT_EQ(PaymentRows(), 1);
}

TEST_F(PaymentsTest, BadInputIsRefusedNamingTheField) {
  EXPECT_TRUE(
      IsInvalidField(Record(D(2019, 7, 1), 0, "ﾀﾅｶ").status(), "amount", "AMOUNT_NOT_POSITIVE"));
  EXPECT_TRUE(IsInvalidField(Record(D(2019, 7, 11), 100, "ﾀﾅｶ").status(), "payment_date",
                             "DATE_IN_FUTURE"));
  EXPECT_TRUE(IsInvalidField(Record(common::v1::Date(), 100, "ﾀﾅｶ").status(), "payment_date"));
  EXPECT_TRUE(IsInvalidField(Record(D(2019, 7, 1), 100, std::string(201, 'A')).status(),
                             "payer_name", "TOO_LONG"));
  v1::RecordPaymentRequest no_id;
  *no_id.mutable_payment_date() = D(2019, 7, 1);
  no_id.set_amount(100);
  EXPECT_TRUE(
      IsInvalidField(Call(&Stub::RecordPayment, no_id, accounting_).status(), "request_id"));
  EXPECT_EQ(Record(D(2019, 7, 1), 100, "ﾀﾅｶ", "", staff_).status().code(),
            absl::StatusCode::kPermissionDenied);

  const std::string csv = BankCsv({{D(2019, 7, 1), 100, "ﾀﾅｶ", ""}});
  EXPECT_TRUE(
      IsInvalidField(Import(v1::BANK_STATEMENT_FORMAT_UNSPECIFIED, csv, "a").status(), "format"));
  EXPECT_TRUE(IsInvalidField(Import(v1::BANK_STATEMENT_FORMAT_CSV, csv, "").status(), "account"));
  EXPECT_TRUE(IsInvalidField(Import(v1::BANK_STATEMENT_FORMAT_CSV, "", "a").status(), "content"));
  absl::StatusOr<v1::ImportBankStatementResponse> bad =
      Import(v1::BANK_STATEMENT_FORMAT_CSV,
             Cp932("入金日,金額,振込依頼人名\r\n2019/07/01,100,ﾀﾅｶ\r\n"
                   "2019/07/02,百円,ｽｽﾞｷ\r\n"),
             "a");
  EXPECT_TRUE(IsInvalidField(bad.status(), "content"));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("3"));

  v1::ListPaymentsRequest list;
  list.add_statuses(static_cast<v1::PaymentStatus>(9));
  EXPECT_TRUE(IsInvalidField(Call(&Stub::ListPayments, list).status(), "statuses"));
  EXPECT_TRUE(IsInvalidField(Unallocate(1, "").status(), "reason", "REQUIRED"));
  EXPECT_TRUE(
      IsError(Unallocate(kUnknownId).status(), absl::StatusCode::kNotFound, "PAYMENT_NOT_FOUND"));
  EXPECT_EQ(PaymentRows(), 0);
}

TEST_F(PaymentsTest, TheFeeToleranceIsConfigured) {
  Issued acme;
  ASSERT_NO_FATAL_FAILURE(
      acme = IssueInvoices(acme_, {{D(2019, 6, 3), 50'000}, {D(2019, 6, 4), 60'000}}));
  BillingServiceOptions strict = Options(tax::Rounding::kFloor);
  strict.bank_fee_tolerance = 300;
  Stub* strict_stub = StartBilling(strict).stub.get();
  auto record = [&](Stub* stub, int64_t amount) {
    v1::RecordPaymentRequest req;
    req.set_request_id(NextRequestId());
    *req.mutable_payment_date() = D(2019, 7, 1);
    req.set_amount(amount);
    req.set_payer_name("ｶ)ｱｸﾒ");
    return CallOn(stub, &Stub::RecordPayment, req, accounting_);
  };
  // 440 short of the first invoice (55,000): over a tolerance of 300 it stays open ...
  absl::StatusOr<v1::Payment> strict_paid = record(strict_stub, 55'000 - 440);
  ASSERT_TRUE(strict_paid.ok()) << strict_paid.status();
  EXPECT_EQ(strict_paid->match_kind(), v1::MATCH_KIND_PARTIAL);
  EXPECT_EQ(MustGetInvoice(acme.invoices[0].id()).balance(), 440);
  // ... while the default 880 books the same shortfall on the second (66,000) as a fee.
  absl::StatusOr<v1::Payment> paid = record(stub_.get(), 66'000 - 880);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_EQ(paid->match_kind(), v1::MATCH_KIND_MATCHED_WITH_FEE);
  ASSERT_EQ(paid->allocations_size(), 1);
  EXPECT_EQ(paid->allocations(0).invoice_id(), acme.invoices[1].id());
  EXPECT_EQ(paid->allocations(0).fee(), 880);
  EXPECT_EQ(MustGetInvoice(acme.invoices[1].id()).balance(), 0);
}

TEST_F(PaymentsTest, WhoMayDoWhat) {
  const std::string partner = host_->Token(Role::kPartner, "partner-1", "1");
  v1::RecordPaymentRequest record;
  record.set_request_id("who-1");
  *record.mutable_payment_date() = D(2019, 7, 1);
  record.set_amount(100);
  v1::ImportBankStatementRequest import;
  import.set_request_id("who-2");
  import.set_format(v1::BANK_STATEMENT_FORMAT_CSV);
  import.set_content("2019-07-01,100,ﾀﾅｶ\n");
  import.set_account("a");
  v1::AllocatePaymentRequest allocate;
  allocate.set_request_id("who-3");
  allocate.set_payment_id(kUnknownId);
  allocate.set_customer_id(acme_.id());
  allocate.set_credit(1);
  v1::UnallocatePaymentRequest unallocate;
  unallocate.set_payment_id(kUnknownId);
  unallocate.set_reason("x");
  v1::WriteOffInvoiceRequest write_off;
  write_off.set_id(kUnknownId);
  write_off.set_reason("x");
  using Rpc = std::function<absl::Status(const std::string&)>;
  const std::map<std::string, Rpc> writes = {
      {"RecordPayment",
       [&](const std::string& t) { return Call(&Stub::RecordPayment, record, t).status(); }},
      {"ImportBankStatement",
       [&](const std::string& t) { return Call(&Stub::ImportBankStatement, import, t).status(); }},
      {"AllocatePayment",
       [&](const std::string& t) { return Call(&Stub::AllocatePayment, allocate, t).status(); }},
      {"UnallocatePayment",
       [&](const std::string& t) {
         return Call(&Stub::UnallocatePayment, unallocate, t).status();
       }},
      {"WriteOffInvoice",
       [&](const std::string& t) { return Call(&Stub::WriteOffInvoice, write_off, t).status(); }},
  };
  const std::map<std::string, Rpc> reads = {
      {"ListPayments",
       [&](const std::string& t) {
         return Call(&Stub::ListPayments, v1::ListPaymentsRequest(), t).status();
       }},
      {"ListOverdueInvoices",
       [&](const std::string& t) {
         return Call(&Stub::ListOverdueInvoices, v1::ListOverdueInvoicesRequest(), t).status();
       }},
      {"GetAgingSummary",
       [&](const std::string& t) {
         return Call(&Stub::GetAgingSummary, v1::GetAgingSummaryRequest(), t).status();
       }},
  };
  for (const auto* group : {&writes, &reads}) {
    for (const auto& [name, call] : *group) {
      EXPECT_TRUE(IsError(call(partner), absl::StatusCode::kPermissionDenied)) << name;
      EXPECT_TRUE(IsError(call(""), absl::StatusCode::kUnauthenticated)) << name;
    }
  }
  for (const auto& [name, call] : writes) {
    EXPECT_EQ(call(staff_).code(), absl::StatusCode::kPermissionDenied) << name;
    EXPECT_EQ(call(service_token_).code(), absl::StatusCode::kPermissionDenied) << name;
    EXPECT_NE(call(admin_).code(), absl::StatusCode::kPermissionDenied) << name;
  }
  EXPECT_EQ(PaymentRows(), 2);  // admin's RecordPayment and import; nobody else wrote
  for (const auto& [name, call] : reads) {
    EXPECT_TRUE(call(staff_).ok()) << name;
    EXPECT_TRUE(call(accounting_).ok()) << name;
  }
  // The scheduler reads the receivables, not the payments.
  EXPECT_TRUE(reads.at("ListOverdueInvoices")(service_token_).ok());
  EXPECT_TRUE(reads.at("GetAgingSummary")(service_token_).ok());
  EXPECT_EQ(reads.at("ListPayments")(service_token_).code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace anken::billing::testing
