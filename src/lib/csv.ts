// CSV as RFC 4180 writes it, with the OWASP defence against formula injection
// for text that people typed: one row at a time, so that a stream can send
// each row as soon as it has it.

/**
 * Fields that RFC 4180 requires quoting (comma, double quote, CR, LF), plus semicolon and tab, which
 * RFC 4180 allows quoting: spreadsheets set to a `;` or tab separator (common outside English locales)
 * would otherwise split `a;=1+1` into a cell `=1+1`.
 */
const needsQuotes = /[",;\t\r\n]/;

/** One field: quoted when it must be, its double quotes doubled. */
export function csvField(value: string): string {
  return needsQuotes.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record: fields separated by commas, ended by CRLF. */
export function csvRecord(fields: readonly string[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/**
 * What a spreadsheet would take for a formula (OWASP CSV Injection: a cell starting with `=`, `+`,
 * `-`, `@`, tab or carriage return) becomes text by a leading single quote, which spreadsheets show as
 * a text marker. For free text only: a number that we write ourselves, such as a negative amount,
 * must stay a number.
 */
const formulaStart = /^[=+\-@\t\r]/;

export function neutralizeFormula(text: string): string {
  return formulaStart.test(text) ? `'${text}` : text;
}
