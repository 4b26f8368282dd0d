#include "common/pdf/render.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/jp/format.h"

namespace anken::pdf {
namespace {

using jp::FormatJapaneseDate;
using jp::FormatQuantity;
using jp::FormatYen;

// ---- geometry (points; A4 is 210 × 297 mm) ----
constexpr double kPageWidth = 595.2756;
constexpr double kPageHeight = 841.8898;
constexpr double kMargin = 42.0;  // about 15 mm
constexpr double kContentWidth = kPageWidth - 2 * kMargin;
constexpr double kRight = kPageWidth - kMargin;
constexpr double kFooterY = kPageHeight - 34.0;
constexpr double kContentBottom = kPageHeight - 52.0;  // rows and totals end above this

// Lines table columns: No., item, quantity, unit price, amount.
constexpr double kColNo = 26.0;
constexpr double kColQty = 70.0;
constexpr double kColPrice = 86.0;
constexpr double kColAmount = 92.0;
constexpr double kColItem = kContentWidth - kColNo - kColQty - kColPrice - kColAmount;
constexpr double kCellPad = 4.0;
constexpr double kHeaderRowHeight = 18.0;

// Text sizes.
constexpr double kTitleSize = 22.0;
constexpr double kBodySize = 9.5;
constexpr double kTableSize = 9.0;
constexpr double kSmallSize = 8.0;

struct Rgb {
  double r, g, b;
};
constexpr Rgb kInk = {0.10, 0.10, 0.12};
constexpr Rgb kMuted = {0.40, 0.40, 0.43};
constexpr Rgb kRule = {0.55, 0.55, 0.58};
constexpr Rgb kFaintRule = {0.80, 0.80, 0.82};
constexpr Rgb kShade = {0.90, 0.91, 0.93};
constexpr Rgb kCancelRed = {0.80, 0.08, 0.08};

// ---- C resources ----
struct SurfaceFree {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoFree {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct GObjectFree {
  void operator()(gpointer o) const { g_object_unref(o); }
};
struct FontDescriptionFree {
  void operator()(PangoFontDescription* d) const { pango_font_description_free(d); }
};
struct FontOptionsFree {
  void operator()(cairo_font_options_t* o) const { cairo_font_options_destroy(o); }
};
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectFree>;

// ---- fonts ----

// A fontconfig configuration holding only the document font's file, found once through the
// system configuration. Only that file: a glyph it lacks shows as a box instead of coming
// from whatever other font a machine has, so output is the same everywhere.
absl::StatusOr<FcConfig*> LoadDocumentFonts() {
  FcConfig* system = FcInitLoadConfigAndFonts();
  if (system == nullptr) {
    return absl::FailedPreconditionError("fontconfig could not load its configuration");
  }
  FcPattern* pattern = FcPatternCreate();
  FcPatternAddString(pattern, FC_FAMILY, reinterpret_cast<const FcChar8*>(kFontFamily));
  FcConfigSubstitute(system, pattern, FcMatchPattern);
  FcDefaultSubstitute(pattern);
  FcResult result = FcResultNoMatch;
  FcPattern* match = FcFontMatch(system, pattern, &result);
  FcPatternDestroy(pattern);
  std::string file;
  bool family_matches = false;
  if (match != nullptr) {
    FcChar8* value = nullptr;
    for (int i = 0; FcPatternGetString(match, FC_FAMILY, i, &value) == FcResultMatch; ++i) {
      if (std::string(reinterpret_cast<const char*>(value)) == kFontFamily) family_matches = true;
    }
    if (FcPatternGetString(match, FC_FILE, 0, &value) == FcResultMatch) {
      file = reinterpret_cast<const char*>(value);
    }
    FcPatternDestroy(match);
  }
  FcConfigDestroy(system);
  if (!family_matches || file.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the document font ", kFontFamily,
        " is not installed (Debian package fonts-ipaexfont-gothic); cannot render PDFs"));
  }
  FcConfig* own = FcConfigCreate();
  if (own == nullptr ||
      !FcConfigAppFontAddFile(own, reinterpret_cast<const FcChar8*>(file.c_str()))) {
    if (own != nullptr) FcConfigDestroy(own);
    return absl::FailedPreconditionError(
        absl::StrCat("the document font file ", file, " could not be loaded"));
  }
  return own;
}

absl::StatusOr<FcConfig*> DocumentFonts() {
  // Built once, kept for the life of the process (fontconfig configurations are thread-safe
  // to read).
  static const auto* const fonts = new absl::StatusOr<FcConfig*>(LoadDocumentFonts());
  return *fonts;
}

// ---- text ----

enum class Align { kLeft, kCenter, kRight };

class Typesetter {
 public:
  explicit Typesetter(PangoContext* context) : context_(context) {}

  // A layout of `text` at `size` points. With width > 0 lines wrap at that width (at most
  // `max_lines`, the last one ellipsized when 0 < max_lines) and `align` applies within it.
  LayoutPtr Make(absl::string_view text, double size, double width = 0,
                 Align align = Align::kLeft, int max_lines = 0) const {
    LayoutPtr layout(pango_layout_new(context_));
    std::unique_ptr<PangoFontDescription, FontDescriptionFree> font(
        pango_font_description_new());
    pango_font_description_set_family(font.get(), kFontFamily);
    pango_font_description_set_absolute_size(font.get(), size * PANGO_SCALE);
    pango_layout_set_font_description(layout.get(), font.get());
    if (width > 0) {
      pango_layout_set_width(layout.get(), static_cast<int>(width * PANGO_SCALE));
      pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
      pango_layout_set_alignment(layout.get(), align == Align::kRight    ? PANGO_ALIGN_RIGHT
                                               : align == Align::kCenter ? PANGO_ALIGN_CENTER
                                                                         : PANGO_ALIGN_LEFT);
      if (max_lines > 0) {
        pango_layout_set_height(layout.get(), -max_lines);
        pango_layout_set_ellipsize(layout.get(), PANGO_ELLIPSIZE_END);
      }
    }
    pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
    return layout;
  }

 private:
  PangoContext* context_;
};

double Width(PangoLayout* layout) {
  int w = 0, h = 0;
  pango_layout_get_size(layout, &w, &h);
  return static_cast<double>(w) / PANGO_SCALE;
}
double Height(PangoLayout* layout) {
  int w = 0, h = 0;
  pango_layout_get_size(layout, &w, &h);
  return static_cast<double>(h) / PANGO_SCALE;
}

// ---- the document on pages ----

// What one page holds of the lines table, and whether the totals follow on it.
struct PagePlan {
  size_t first_row = 0;
  size_t end_row = 0;
  bool totals = false;
};

struct RowLayouts {
  LayoutPtr no, item, quantity, unit_price, amount;
  double height = 0;
};

class Painter {
 public:
  Painter(const Document& doc, cairo_t* cr, PangoContext* context)
      : doc_(doc), cr_(cr), text_(context) {}

  // Lays out everything, splits it into pages and draws them.
  void Paint() {
    for (size_t i = 0; i < doc_.lines.size(); ++i) rows_.push_back(MeasureRow(i));
    const std::vector<PagePlan> pages = Paginate();
    for (size_t p = 0; p < pages.size(); ++p) {
      if (p > 0) cairo_show_page(cr_);
      double y = p == 0 ? FirstPageHeader(true) : ContinuationHeader(true);
      const PagePlan& plan = pages[p];
      if (plan.end_row > plan.first_row || (doc_.lines.empty() && p == 0)) {
        y = Table(plan.first_row, plan.end_row, y);
      }
      if (plan.totals) Totals(y + 12, true);
      Footer(p + 1, pages.size());
      if (doc_.cancelled) CancelStamp();
    }
  }

 private:
  // ---- pagination ----

  std::vector<PagePlan> Paginate() {
    std::vector<PagePlan> pages;
    PagePlan page;
    double y = FirstPageHeader(false) + kHeaderRowHeight;
    for (size_t i = 0; i < rows_.size(); ++i) {
      // A page holds at least one row, so a row taller than a page cannot loop forever.
      if (y + rows_[i].height > kContentBottom && i > page.first_row) {
        page.end_row = i;
        pages.push_back(page);
        page = PagePlan{i, i, false};
        y = ContinuationHeader(false) + kHeaderRowHeight;
      }
      y += rows_[i].height;
    }
    page.end_row = rows_.size();
    if (y + 12 + Totals(0, false) > kContentBottom) {
      pages.push_back(page);
      page = PagePlan{rows_.size(), rows_.size(), false};
    }
    page.totals = true;
    pages.push_back(page);
    return pages;
  }

  // ---- headers ----

  // Draws (when `draw`) the first page's header and returns where the table starts.
  double FirstPageHeader(bool draw) {
    double y = kMargin;
    LayoutPtr title = text_.Make(Title(doc_.kind), kTitleSize);
    const double title_w = Width(title.get());
    if (draw) {
      Show(title.get(), (kPageWidth - title_w) / 2, y, kInk);
      // A double rule under the title, as printed forms have.
      Rule((kPageWidth - title_w) / 2 - 24, y + Height(title.get()) + 2,
           (kPageWidth + title_w) / 2 + 24, kInk, 0.8);
      Rule((kPageWidth - title_w) / 2 - 24, y + Height(title.get()) + 4.5,
           (kPageWidth + title_w) / 2 + 24, kInk, 0.4);
    }
    // Number and date, top right.
    LayoutPtr number = text_.Make(absl::StrCat(NumberLabel(), " ", doc_.number), kBodySize,
                                  200, Align::kRight);
    LayoutPtr date = text_.Make(
        absl::StrCat(DateLabel(), " ", FormatJapaneseDate(doc_.issue_date)), kBodySize, 200,
        Align::kRight);
    if (draw) {
      Show(number.get(), kRight - 200, y + 2, kInk);
      Show(date.get(), kRight - 200, y + 2 + Height(number.get()) + 1, kInk);
    }
    y += std::max(Height(title.get()) + 14,
                  Height(number.get()) + Height(date.get()) + 6);
    if (doc_.cancelled) {
      std::string notice = absl::StrCat("【取消】この", Title(doc_.kind), "は取り消されました");
      if (doc_.cancel_date.has_value()) {
        absl::StrAppend(&notice, "（取消日 ", FormatJapaneseDate(*doc_.cancel_date), "）");
      }
      LayoutPtr l = text_.Make(notice, 10.5, kContentWidth, Align::kCenter, 2);
      if (draw) Show(l.get(), kMargin, y, kCancelRed);
      y += Height(l.get()) + 6;
    }
    y += 6;

    // Left: recipient, subject, lead, amount due, terms.
    constexpr double kLeftWidth = 290.0;
    double left = y;
    LayoutPtr recipient = text_.Make(
        absl::StrCat(doc_.recipient.name, "　",
                     doc_.recipient.honorific == Honorific::kSama ? "様" : "御中"),
        14, kLeftWidth, Align::kLeft, 3);
    if (draw) {
      Show(recipient.get(), kMargin, left, kInk);
      Rule(kMargin, left + Height(recipient.get()) + 2, kMargin + kLeftWidth, kInk, 0.8);
    }
    left += Height(recipient.get()) + 12;
    if (!doc_.subject.empty()) {
      LayoutPtr s = text_.Make(absl::StrCat("件名：", doc_.subject), kBodySize, kLeftWidth,
                               Align::kLeft, 3);
      if (draw) Show(s.get(), kMargin, left, kInk);
      left += Height(s.get()) + 4;
    }
    LayoutPtr lead = text_.Make(doc_.kind == DocumentKind::kQuote
                                    ? "下記のとおり御見積申し上げます。"
                                    : "下記のとおりご請求申し上げます。",
                                kBodySize, kLeftWidth);
    if (draw) Show(lead.get(), kMargin, left, kInk);
    left += Height(lead.get()) + 6;

    // The amount due, boxed.
    constexpr double kBoxLabel = 112.0;
    LayoutPtr due_label = text_.Make(
        doc_.kind == DocumentKind::kQuote ? "御見積金額（税込）" : "ご請求金額（税込）", 10,
        kBoxLabel, Align::kCenter);
    LayoutPtr due = text_.Make(FormatYen(doc_.totals.total), 17, kLeftWidth - kBoxLabel - 12,
                               Align::kRight);
    const double box_h = std::max(Height(due.get()), Height(due_label.get())) + 10;
    if (draw) {
      Fill(kMargin, left, kBoxLabel, box_h, kShade);
      Box(kMargin, left, kLeftWidth, box_h, kInk, 0.8);
      Line(kMargin + kBoxLabel, left, kMargin + kBoxLabel, left + box_h, kInk, 0.8);
      Show(due_label.get(), kMargin, left + (box_h - Height(due_label.get())) / 2, kInk);
      Show(due.get(), kMargin + kBoxLabel + 6, left + (box_h - Height(due.get())) / 2, kInk);
    }
    left += box_h + 8;

    // Terms: label and value pairs.
    std::vector<std::pair<std::string, std::string>> terms;
    if (doc_.kind == DocumentKind::kInvoice && doc_.due_date.has_value()) {
      terms.emplace_back("お支払期限", FormatJapaneseDate(*doc_.due_date));
    }
    if (doc_.kind == DocumentKind::kInvoice && !doc_.bank_account.empty()) {
      terms.emplace_back("お振込先", doc_.bank_account);
    }
    if (doc_.kind == DocumentKind::kQuote && doc_.valid_until.has_value()) {
      terms.emplace_back("有効期限", FormatJapaneseDate(*doc_.valid_until));
    }
    constexpr double kTermLabel = 62.0;
    for (const auto& [label, value] : terms) {
      LayoutPtr l = text_.Make(label, kBodySize);
      LayoutPtr v = text_.Make(value, kBodySize, kLeftWidth - kTermLabel, Align::kLeft, 3);
      if (draw) {
        Show(l.get(), kMargin, left, kMuted);
        Show(v.get(), kMargin + kTermLabel, left, kInk);
      }
      left += std::max(Height(l.get()), Height(v.get())) + 3;
    }

    // Right: the issuer.
    constexpr double kIssuerWidth = 196.0;
    const double ix = kRight - kIssuerWidth;
    double right = y + 4;
    LayoutPtr issuer = text_.Make(doc_.issuer.name, 11.5, kIssuerWidth, Align::kLeft, 3);
    if (draw) Show(issuer.get(), ix, right, kInk);
    right += Height(issuer.get()) + 3;
    if (!doc_.issuer.address.empty()) {
      LayoutPtr a =
          text_.Make(doc_.issuer.address, kSmallSize + 0.5, kIssuerWidth, Align::kLeft, 4);
      if (draw) Show(a.get(), ix, right, kInk);
      right += Height(a.get()) + 2;
    }
    if (!doc_.issuer.registration_number.empty()) {
      LayoutPtr r = text_.Make(absl::StrCat("登録番号：", doc_.issuer.registration_number),
                               kSmallSize + 0.5, kIssuerWidth);
      if (draw) Show(r.get(), ix, right, kInk);
      right += Height(r.get()) + 2;
    }
    return std::max(left, right) + 12;
  }

  // Pages after the first: a one-line reminder of which document this is.
  double ContinuationHeader(bool draw) {
    double y = kMargin;
    LayoutPtr title = text_.Make(
        absl::StrCat(Title(doc_.kind), "（続き）", doc_.cancelled ? "【取消】" : ""), 12);
    LayoutPtr number = text_.Make(absl::StrCat(NumberLabel(), " ", doc_.number), kBodySize, 200,
                                  Align::kRight);
    LayoutPtr recipient = text_.Make(
        absl::StrCat(doc_.recipient.name, "　",
                     doc_.recipient.honorific == Honorific::kSama ? "様" : "御中"),
        kBodySize, kContentWidth - 210, Align::kLeft, 1);
    const double h = std::max(Height(title.get()), Height(number.get()));
    if (draw) {
      Show(title.get(), kMargin, y, doc_.cancelled ? kCancelRed : kInk);
      Show(number.get(), kRight - 200, y + (h - Height(number.get())), kInk);
      Show(recipient.get(), kMargin, y + h + 3, kInk);
      Rule(kMargin, y + h + Height(recipient.get()) + 6, kRight, kRule, 0.6);
    }
    return y + h + Height(recipient.get()) + 14;
  }

  // ---- the lines table ----

  RowLayouts MeasureRow(size_t i) {
    const pdf::Line& line = doc_.lines[i];
    RowLayouts r;
    r.no = text_.Make(absl::StrCat(i + 1), kTableSize, kColNo, Align::kCenter);
    std::string item = line.description;
    if (line.tax_category == tax::Category::kReduced) absl::StrAppend(&item, " ※");
    r.item = text_.Make(item, kTableSize, kColItem - 2 * kCellPad, Align::kLeft, 4);
    std::string quantity = FormatQuantity(line.quantity_milli);
    if (!line.unit.empty()) absl::StrAppend(&quantity, " ", line.unit);
    r.quantity = text_.Make(quantity, kTableSize, kColQty - 2 * kCellPad, Align::kRight, 1);
    r.unit_price =
        text_.Make(FormatYen(line.unit_price), kTableSize, kColPrice - 2 * kCellPad, Align::kRight);
    r.amount =
        text_.Make(FormatYen(line.amount), kTableSize, kColAmount - 2 * kCellPad, Align::kRight);
    r.height = std::max({Height(r.item.get()), Height(r.quantity.get()),
                         Height(r.amount.get()), 11.0}) +
               2 * kCellPad;
    return r;
  }

  // Draws the table header and rows [first, end) from y; returns the y below the table.
  double Table(size_t first, size_t end, double y) {
    const double top = y;
    const double xs[] = {kMargin, kMargin + kColNo, kMargin + kColNo + kColItem,
                         kMargin + kColNo + kColItem + kColQty,
                         kMargin + kColNo + kColItem + kColQty + kColPrice, kRight};
    Fill(kMargin, y, kContentWidth, kHeaderRowHeight, kShade);
    const char* headers[] = {"No.", "品目・内容", "数量", "単価", "金額"};
    for (int c = 0; c < 5; ++c) {
      LayoutPtr h = text_.Make(headers[c], kSmallSize + 0.5, xs[c + 1] - xs[c], Align::kCenter);
      Show(h.get(), xs[c], y + (kHeaderRowHeight - Height(h.get())) / 2, kInk);
    }
    y += kHeaderRowHeight;
    Line(kMargin, y, kRight, y, kRule, 0.6);
    for (size_t i = first; i < end; ++i) {
      const RowLayouts& r = rows_[i];
      Show(r.no.get(), xs[0], y + kCellPad, kMuted);
      Show(r.item.get(), xs[1] + kCellPad, y + kCellPad, kInk);
      Show(r.quantity.get(), xs[2] + kCellPad, y + kCellPad, kInk);
      Show(r.unit_price.get(), xs[3] + kCellPad, y + kCellPad, kInk);
      Show(r.amount.get(), xs[4] + kCellPad, y + kCellPad, kInk);
      y += r.height;
      Line(kMargin, y, kRight, y, i + 1 == end ? kRule : kFaintRule, i + 1 == end ? 0.6 : 0.4);
    }
    if (first == end) {  // no lines at all
      LayoutPtr none = text_.Make("（明細なし）", kTableSize, kColItem - 2 * kCellPad);
      Show(none.get(), xs[1] + kCellPad, y + kCellPad, kMuted);
      y += 11 + 2 * kCellPad;
      Line(kMargin, y, kRight, y, kRule, 0.6);
    }
    for (int c = 1; c < 5; ++c) Line(xs[c], top, xs[c], y, kFaintRule, 0.4);
    Box(kMargin, top, kContentWidth, y - top, kRule, 0.8);
    return y;
  }

  // ---- totals, legend, notes ----

  // Draws (when `draw`) the totals block from y; returns its height.
  double Totals(double y, bool draw) {
    const double top = y;
    // Per rate: 税率区分 | 対象金額（税抜） | 消費税額.
    constexpr double kRateLabel = 104.0, kRateCol = 86.0;
    constexpr double kTableWidth = kRateLabel + 2 * kRateCol;
    const double x0 = kRight - kTableWidth;
    const double xs[] = {x0, x0 + kRateLabel, x0 + kRateLabel + kRateCol, kRight};
    constexpr double kRow = 17.0;
    if (draw) {
      Fill(x0, y, kTableWidth, kRow, kShade);
      const char* headers[] = {"税率区分", "対象金額（税抜）", "消費税額"};
      for (int c = 0; c < 3; ++c) {
        LayoutPtr h = text_.Make(headers[c], kSmallSize, xs[c + 1] - xs[c], Align::kCenter);
        Show(h.get(), xs[c], y + (kRow - Height(h.get())) / 2, kInk);
      }
    }
    y += kRow;
    for (const tax::RateTotal& r : doc_.totals.per_rate) {
      if (draw) {
        LayoutPtr label = text_.Make(RateLabel(r.category), kTableSize, kRateLabel - 2 * kCellPad);
        LayoutPtr taxable =
            text_.Make(FormatYen(r.taxable), kTableSize, kRateCol - 2 * kCellPad, Align::kRight);
        LayoutPtr tax =
            text_.Make(FormatYen(r.tax), kTableSize, kRateCol - 2 * kCellPad, Align::kRight);
        const double ty = y + (kRow - Height(label.get())) / 2;
        Show(label.get(), xs[0] + kCellPad, ty, kInk);
        Show(taxable.get(), xs[1] + kCellPad, ty, kInk);
        Show(tax.get(), xs[2] + kCellPad, ty, kInk);
        Line(x0, y, kRight, y, kFaintRule, 0.4);
      }
      y += kRow;
    }
    if (draw) {
      for (int c = 1; c < 3; ++c) Line(xs[c], top, xs[c], y, kFaintRule, 0.4);
      Box(x0, top, kTableWidth, y - top, kRule, 0.8);
    }

    // 小計 / 消費税 / 合計.
    y += 8;
    const double sx = kRight - kTableWidth;
    const std::pair<const char*, int64_t> sums[] = {{"小計（税抜）", doc_.totals.subtotal},
                                                   {"消費税", doc_.totals.tax},
                                                   {"合計（税込）", doc_.totals.total}};
    for (int i = 0; i < 3; ++i) {
      const bool total = i == 2;
      const double size = total ? 12.0 : kBodySize;
      const double row = total ? 24.0 : kRow;
      if (draw) {
        LayoutPtr label = text_.Make(sums[i].first, size, kRateLabel + kRateCol - 2 * kCellPad);
        LayoutPtr value =
            text_.Make(FormatYen(sums[i].second), size, kRateCol - 2 * kCellPad, Align::kRight);
        const double ty = y + (row - Height(label.get())) / 2;
        if (total) {
          Fill(sx, y, kTableWidth, row, kShade);
          Line(sx, y, kRight, y, kInk, 0.8);
          Line(sx, y + row, kRight, y + row, kInk, 0.8);
        }
        Show(label.get(), sx + kCellPad, ty, kInk);
        Show(value.get(), xs[2] + kCellPad, ty, kInk);
        if (!total) Line(sx, y + row, kRight, y + row, kFaintRule, 0.4);
      }
      y += row;
    }

    // Left of the totals: the legend of the ※ mark.
    const bool any_reduced =
        std::any_of(doc_.lines.begin(), doc_.lines.end(), [](const pdf::Line& l) {
          return l.tax_category == tax::Category::kReduced;
        });
    if (any_reduced && draw) {
      LayoutPtr legend = text_.Make("※は軽減税率対象", kBodySize, x0 - kMargin - 12);
      Show(legend.get(), kMargin, top + 2, kInk);
    }

    // Notes below, full width.
    if (!doc_.notes.empty()) {
      y += 12;
      std::string notes;
      for (const std::string& n : doc_.notes) {
        if (!notes.empty()) notes += "\n";
        notes += n;
      }
      LayoutPtr heading = text_.Make("備考", kSmallSize + 0.5);
      LayoutPtr body = text_.Make(notes, kBodySize, kContentWidth - 2 * kCellPad - 2,
                                  Align::kLeft, 16);
      const double box_h = Height(heading.get()) + Height(body.get()) + 3 * kCellPad;
      if (draw) {
        Box(kMargin, y, kContentWidth, box_h, kRule, 0.6);
        Show(heading.get(), kMargin + kCellPad, y + kCellPad, kMuted);
        Show(body.get(), kMargin + kCellPad + 2, y + 2 * kCellPad + Height(heading.get()), kInk);
      }
      y += box_h;
    }
    return y - top;
  }

  // ---- page furniture ----

  void Footer(size_t page, size_t pages) {
    LayoutPtr f = text_.Make(
        absl::StrCat(Title(doc_.kind), " ", NumberLabel(), " ", doc_.number, "　　", page, " / ",
                     pages),
        kSmallSize, kContentWidth, Align::kCenter);
    Show(f.get(), kMargin, kFooterY, kMuted);
  }

  // A large translucent 取消 stamp across the page, as a rubber stamp would leave it.
  void CancelStamp() {
    LayoutPtr stamp = text_.Make("取消", 96);
    const double w = Width(stamp.get()), h = Height(stamp.get());
    cairo_save(cr_);
    cairo_translate(cr_, kPageWidth / 2, kPageHeight / 2);
    cairo_rotate(cr_, -0.4);
    cairo_set_source_rgba(cr_, kCancelRed.r, kCancelRed.g, kCancelRed.b, 0.35);
    cairo_set_line_width(cr_, 6);
    cairo_rectangle(cr_, -w / 2 - 24, -h / 2 - 10, w + 48, h + 20);
    cairo_stroke(cr_);
    cairo_move_to(cr_, -w / 2, -h / 2);
    pango_cairo_show_layout(cr_, stamp.get());
    cairo_restore(cr_);
  }

  // ---- labels ----

  const char* NumberLabel() const { return "No."; }
  const char* DateLabel() const {
    return doc_.kind == DocumentKind::kQuote ? "見積日" : "発行日";
  }
  static std::string RateLabel(tax::Category c) {
    switch (c) {
      case tax::Category::kReduced:
        return "8%対象 ※";
      case tax::Category::kExempt:
        return "非課税";
      case tax::Category::kStandard:
        break;
    }
    return absl::StrCat(tax::RatePercent(c), "%対象");
  }

  // ---- drawing primitives ----

  void Show(PangoLayout* layout, double x, double y, Rgb color) {
    cairo_set_source_rgb(cr_, color.r, color.g, color.b);
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, layout);
  }
  void Line(double x0, double y0, double x1, double y1, Rgb color, double width) {
    cairo_set_source_rgb(cr_, color.r, color.g, color.b);
    cairo_set_line_width(cr_, width);
    cairo_move_to(cr_, x0, y0);
    cairo_line_to(cr_, x1, y1);
    cairo_stroke(cr_);
  }
  void Rule(double x0, double y, double x1, Rgb color, double width) {
    Line(x0, y, x1, y, color, width);
  }
  void Box(double x, double y, double w, double h, Rgb color, double width) {
    cairo_set_source_rgb(cr_, color.r, color.g, color.b);
    cairo_set_line_width(cr_, width);
    cairo_rectangle(cr_, x, y, w, h);
    cairo_stroke(cr_);
  }
  void Fill(double x, double y, double w, double h, Rgb color) {
    cairo_set_source_rgb(cr_, color.r, color.g, color.b);
    cairo_rectangle(cr_, x, y, w, h);
    cairo_fill(cr_);
  }

  const Document& doc_;
  cairo_t* cr_;
  Typesetter text_;
  std::vector<RowLayouts> rows_;
};

// ---- input checks ----

absl::Status CheckText(absl::string_view text, absl::string_view field) {
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status CheckTexts(const Document& d) {
  const std::pair<absl::string_view, absl::string_view> fields[] = {
      {d.number, "number"},
      {d.bank_account, "bank_account"},
      {d.subject, "subject"},
      {d.issuer.name, "issuer.name"},
      {d.issuer.address, "issuer.address"},
      {d.issuer.registration_number, "issuer.registration_number"},
      {d.recipient.name, "recipient.name"},
      {d.cancel_reason, "cancel_reason"}};
  for (const auto& [text, field] : fields) {
    if (absl::Status s = CheckText(text, field); !s.ok()) return s;
  }
  for (size_t i = 0; i < d.lines.size(); ++i) {
    if (absl::Status s = CheckText(d.lines[i].description, absl::StrCat("lines[", i, "]"));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckText(d.lines[i].unit, absl::StrCat("lines[", i, "].unit"));
        !s.ok()) {
      return s;
    }
  }
  for (size_t i = 0; i < d.notes.size(); ++i) {
    if (absl::Status s = CheckText(d.notes[i], absl::StrCat("notes[", i, "]")); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

cairo_status_t AppendTo(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

absl::StatusOr<std::string> RenderPdf(const Document& document) {
  if (absl::Status s = CheckTexts(document); !s.ok()) return s;
  absl::StatusOr<FcConfig*> fonts = DocumentFonts();
  if (!fonts.ok()) return fonts.status();

  std::string out;
  std::unique_ptr<cairo_surface_t, SurfaceFree> surface(
      cairo_pdf_surface_create_for_stream(&AppendTo, &out, kPageWidth, kPageHeight));
  // The dates come from the document, never the clock, so that the bytes are the same
  // whenever it is rendered (cairo would stamp the current time otherwise).
  const std::string date = absl::StrFormat("%04d-%02d-%02dT00:00:00+09:00",
                                           document.issue_date.year(),
                                           document.issue_date.month(),
                                           document.issue_date.day());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATE_DATE, date.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_MOD_DATE, date.c_str());
  const std::string title = absl::StrCat(Title(document.kind), " No. ", document.number);
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, title.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_AUTHOR,
                                 document.issuer.name.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "Anken");
  std::unique_ptr<cairo_t, CairoFree> cr(cairo_create(surface.get()));

  // A font map of our own per call (pango font maps are not shared across threads), over
  // the one-font configuration; no hinting, so glyph positions are exact and the same on
  // every machine.
  std::unique_ptr<PangoFontMap, GObjectFree> font_map(
      pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT));
  if (font_map == nullptr) return absl::InternalError("pango has no FreeType font map");
  pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(font_map.get()), *fonts);
  pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(font_map.get()), 72.0);
  std::unique_ptr<PangoContext, GObjectFree> context(
      pango_font_map_create_context(font_map.get()));
  std::unique_ptr<cairo_font_options_t, FontOptionsFree> options(cairo_font_options_create());
  cairo_font_options_set_hint_style(options.get(), CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options.get(), CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options(context.get(), options.get());
  pango_context_set_round_glyph_positions(context.get(), FALSE);
  pango_context_set_language(context.get(), pango_language_from_string("ja"));
  pango_cairo_update_context(cr.get(), context.get());

  Painter(document, cr.get(), context.get()).Paint();

  cairo_surface_finish(surface.get());
  if (cairo_status_t s = cairo_status(cr.get()); s != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrCat("cairo: ", cairo_status_to_string(s)));
  }
  if (cairo_status_t s = cairo_surface_status(surface.get()); s != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrCat("cairo: ", cairo_status_to_string(s)));
  }
  return out;
}

}  // namespace anken::pdf
