//! Multi-row statements for the sqlx write path (PostgreSQL): all of a
//! batch's rows for one table go in one statement, because each statement
//! is a round trip to the server and per-event round trips dominated the
//! cost of a write. PostgreSQL takes at most 65 535 parameters per
//! statement; a larger set of rows is split over as many statements as that
//! needs.

use super::StoreError;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, FromRow};

/// The most bind parameters PostgreSQL accepts in one statement.
const MAX_PARAMETERS: usize = 65_535;

/// One bound value of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Param<'a> {
    /// A text column.
    Text(&'a str),
    /// A `BIGINT` column.
    Int(i64),
}

/// A statement of the form `{head} VALUES (...), (...) {tail}`; `head` and
/// `tail` may open and close parentheses around the `VALUES` list (a
/// `FROM (VALUES ...) AS d (...)` or an `IN (VALUES ...)`).
#[derive(Debug, Clone, Copy)]
pub(super) struct MultiRow<'s> {
    /// Everything before `VALUES`.
    pub head: &'s str,
    /// Everything after the rows.
    pub tail: &'s str,
}

impl MultiRow<'_> {
    /// Runs the statement over `rows` and returns every row it returned.
    pub(super) async fn fetch<T, const N: usize>(
        self,
        conn: &mut AnyConnection,
        rows: &[[Param<'_>; N]],
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let mut fetched = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(rows_per_statement(N)) {
            let sql = self.sql(chunk.len(), N);
            let query = sqlx::query_as_with::<_, T, _>(&sql, arguments(chunk)?);
            fetched.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok(fetched)
    }

    /// Runs the statement over `rows`; returns how many rows it affected.
    pub(super) async fn execute<const N: usize>(
        self,
        conn: &mut AnyConnection,
        rows: &[[Param<'_>; N]],
    ) -> Result<u64, StoreError> {
        let mut affected = 0;
        for chunk in rows.chunks(rows_per_statement(N)) {
            let sql = self.sql(chunk.len(), N);
            let query = sqlx::query_with(&sql, arguments(chunk)?);
            affected += query.execute(&mut *conn).await?.rows_affected();
        }
        Ok(affected)
    }

    fn sql(&self, rows: usize, width: usize) -> String {
        let values = (0..rows)
            .map(|row| {
                let first = row * width + 1;
                let params: Vec<String> = (first..first + width).map(|n| format!("${n}")).collect();
                format!("({})", params.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("{} VALUES {values} {}", self.head, self.tail)
    }
}

/// Rows of `width` parameters that fit in one statement.
fn rows_per_statement(width: usize) -> usize {
    (MAX_PARAMETERS / width.max(1)).max(1)
}

fn arguments<'q, const N: usize>(rows: &[[Param<'q>; N]]) -> Result<AnyArguments<'q>, StoreError> {
    let mut arguments = AnyArguments::default();
    for param in rows.iter().flatten() {
        match *param {
            Param::Text(text) => arguments.add(text),
            Param::Int(int) => arguments.add(int),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(arguments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_across_the_values_list() {
        let statement = MultiRow {
            head: "SELECT a FROM t WHERE (a, b) IN (",
            tail: ")",
        };
        assert_eq!(
            statement.sql(2, 2),
            "SELECT a FROM t WHERE (a, b) IN ( VALUES ($1, $2), ($3, $4) )"
        );
    }

    #[test]
    fn a_statement_stays_within_the_parameter_limit() {
        assert_eq!(rows_per_statement(5), 13_107);
        assert!(rows_per_statement(5) * 5 <= MAX_PARAMETERS);
        assert_eq!(rows_per_statement(70_000), 1);
    }
}
