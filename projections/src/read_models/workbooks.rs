//! Excel workbooks (XLSX) for accountants: the tax ledger (a sheet of monthly
//! totals and a sheet of every line) and the receipts register, amounts as numbers
//! with two decimals so they can be summed, text cells with formula-like starts
//! neutralised as in the CSV forms (`super::csv::neutralised`).

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::csv::neutralised;
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
        sheet.write(row, 2, neutralised(&line.payment_id).as_ref())?;
        sheet.write(row, 3, neutralised(&line.line_id).as_ref())?;
        sheet.write(row, 4, neutralised(&line.kind).as_ref())?;
        sheet.write(row, 5, neutralised(&line.payer_kind).as_ref())?;
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
        sheet.write(row, 1, neutralised(&line.payment_id).as_ref())?;
        let provider = line.provider_payment_id.as_deref().unwrap_or_default();
        sheet.write(row, 2, neutralised(provider).as_ref())?;
        sheet.write(row, 3, neutralised(&line.payer_kind).as_ref())?;
        sheet.write(row, 4, neutralised(&line.description).as_ref())?;
        sheet.write_with_format(row, 5, line.received, &money)?;
        sheet.write_with_format(row, 6, line.refunded, &money)?;
        sheet.write_with_format(row, 7, line.receipt_amount, &money)?;
        sheet.write(row, 8, line.action.label())?;
    }
    sheet.autofit();
    workbook.save_to_buffer()
}

fn headers(sheet: &mut Worksheet, names: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (column, name) in (0u16..).zip(names) {
        sheet.write_with_format(0, column, *name, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}
