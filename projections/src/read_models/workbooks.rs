//! Excel workbooks (XLSX) for accountants: the tax ledger (a sheet of monthly
//! totals and a sheet of every line) and the receipts register, amounts as numbers
//! with two decimals so they can be summed; a text cell that starts like a formula
//! (`super::csv::formula_like`) is written with Excel's quote prefix, so it shows
//! and exports as the text it is.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::csv::formula_like;
use super::receipts::ReceiptLine;
use super::tax_ledger::{MonthTotals, TaxLine};

/// The MIME type of an XLSX file.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const MONTH_HEADERS: [&str; 11] = [
    "Month",
    "Income from individuals",
    "Income from companies",
    "Income",
    "Tax before deduction",
    "Deduction used",
    "Tax due",
    "Due date",
    "Deduction left",
    "Income this year",
    "Over the yearly limit",
];

const LINE_HEADERS: [&str; 11] = [
    "Tax month",
    "At (UTC)",
    "Payment",
    "Line",
    "Kind",
    "Payer",
    "Amount",
    "Rate",
    "Tax",
    "Provider fee",
    "Net",
];

/// The workbook's bytes: sheet "Months" and sheet "Lines".
pub fn tax_ledger(months: &[MonthTotals], lines: &[TaxLine]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let percent = Format::new().set_num_format("0.0%");

    let sheet = workbook.add_worksheet().set_name("Months")?;
    headers(sheet, &MONTH_HEADERS, &bold)?;
    for (index, month) in months.iter().enumerate() {
        let row = u32::try_from(index + 1).unwrap_or(u32::MAX);
        sheet.write(row, 0, month.month.format("%Y-%m").to_string())?;
        let amounts = [
            month.income_individual,
            month.income_legal_entity,
            month.income,
            month.tax_before_deduction,
            month.deduction_used,
            month.tax_due,
        ];
        for (column, amount) in (1u16..).zip(amounts) {
            sheet.write_with_format(row, column, amount.amount(), &money)?;
        }
        sheet.write(row, 7, month.due_date.to_string())?;
        sheet.write_with_format(row, 8, month.deduction_left.amount(), &money)?;
        sheet.write_with_format(row, 9, month.year_income.amount(), &money)?;
        sheet.write(row, 10, if month.over_yearly_limit { "yes" } else { "no" })?;
    }
    sheet.autofit();

    let sheet = workbook.add_worksheet().set_name("Lines")?;
    headers(sheet, &LINE_HEADERS, &bold)?;
    for (index, line) in lines.iter().enumerate() {
        let row = u32::try_from(index + 1).unwrap_or(u32::MAX);
        sheet.write(row, 0, line.tax_month.format("%Y-%m").to_string())?;
        sheet.write(row, 1, line.at.format("%Y-%m-%d %H:%M:%S").to_string())?;
        text(sheet, row, 2, &line.payment_id)?;
        text(sheet, row, 3, &line.line_id)?;
        text(sheet, row, 4, &line.kind)?;
        text(sheet, row, 5, &line.payer_kind)?;
        sheet.write_with_format(row, 6, line.amount, &money)?;
        sheet.write_with_format(row, 7, line.rate, &percent)?;
        sheet.write_with_format(row, 8, line.tax, &money)?;
        sheet.write_with_format(row, 9, line.provider_fee, &money)?;
        sheet.write_with_format(row, 10, line.net, &money)?;
    }
    sheet.autofit();

    workbook.save_to_buffer()
}

const RECEIPT_HEADERS: [&str; 9] = [
    "Received on",
    "Payment",
    "YooKassa payment",
    "Payer",
    "Description",
    "Received",
    "Refunded",
    "Receipt amount",
    "Action",
];

/// The receipts register of a month as a workbook: one sheet, "Receipts".
pub fn receipts(lines: &[ReceiptLine]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let sheet = workbook.add_worksheet().set_name("Receipts")?;
    headers(sheet, &RECEIPT_HEADERS, &bold)?;
    for (index, line) in lines.iter().enumerate() {
        let row = u32::try_from(index + 1).unwrap_or(u32::MAX);
        sheet.write(row, 0, line.received_on.to_string())?;
        text(sheet, row, 1, &line.payment_id)?;
        let provider = line.provider_payment_id.as_deref().unwrap_or_default();
        text(sheet, row, 2, provider)?;
        text(sheet, row, 3, &line.payer_kind)?;
        text(sheet, row, 4, &line.description)?;
        sheet.write_with_format(row, 5, line.received, &money)?;
        sheet.write_with_format(row, 6, line.refunded, &money)?;
        sheet.write_with_format(row, 7, line.receipt_amount, &money)?;
        sheet.write(row, 8, line.action.label())?;
    }
    sheet.autofit();
    workbook.save_to_buffer()
}

/// Writes a text cell, quote-prefixed when it starts like a formula.
fn text(sheet: &mut Worksheet, row: u32, column: u16, value: &str) -> Result<(), XlsxError> {
    if formula_like(value) {
        sheet.write_with_format(row, column, value, &Format::new().set_quote_prefix())?;
    } else {
        sheet.write(row, column, value)?;
    }
    Ok(())
}

fn headers(sheet: &mut Worksheet, names: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (column, name) in (0u16..).zip(names) {
        sheet.write_with_format(0, column, *name, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}
