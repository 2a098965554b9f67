//! The switch at the end of a rebuild, in one transaction that holds the
//! projection's lock (its workers wait): the rebuilt tables take the live ones'
//! place and names (indexes included), the views over them are pointed at them,
//! their grants and triggers are carried over, the projection's checkpoints move
//! up to what the rebuild applied and its parked events become the rebuild's; the
//! old tables are dropped. Readers wait for the moment of the switch, never see a
//! half of it, and find the rebuilt rows after it.

use projections::worker::Rebuildable;
use sqlx::PgConnection;

use super::Schemas;
use crate::{ReplayError, ident};

/// Swaps the rebuilt tables in (see the module's documentation).
pub(crate) async fn switch(
    connection: &mut PgConnection,
    projection: &str,
    schemas: &Schemas,
    spec: &Rebuildable,
) -> Result<(), ReplayError> {
    let live = ident(&schemas.live);
    let rebuilt = ident(&schemas.rebuilt);
    let replaced = ident(&format!("ledgerbot_replaced_{projection}"));
    if let Some(statement) = spec.before_switch {
        let statement = statement
            .replace("{live}", &live)
            .replace("{rebuilt}", &rebuilt);
        sqlx::query(&statement).execute(&mut *connection).await?;
    }
    let qualified: Vec<String> = spec
        .tables
        .iter()
        .map(|table| format!("{live}.{}", ident(table)))
        .collect();
    let views: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT v.oid::regclass::text, pg_get_viewdef(v.oid) \
         FROM pg_depend d \
         JOIN pg_rewrite r ON r.oid = d.objid \
         JOIN pg_class v ON v.oid = r.ev_class \
         WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass \
           AND d.refobjid IN (SELECT to_regclass(name) FROM unnest($1::text[]) AS name) \
           AND v.relkind = 'v' AND v.oid <> d.refobjid",
    )
    .bind(&qualified)
    .fetch_all(&mut *connection)
    .await?;
    let mut carried: Vec<String> = Vec::new();
    let mut renames: Vec<(String, String)> = Vec::new();
    for (table, name) in spec.tables.iter().zip(&qualified) {
        // The new table belongs to whoever runs the rebuild; it gets the old one's
        // owner back, so the service keeps its rights.
        let (owner, runner): (String, String) = sqlx::query_as(
            "SELECT quote_ident(pg_get_userbyid(relowner)), quote_ident(current_user) \
             FROM pg_class WHERE oid = to_regclass($1)",
        )
        .bind(name)
        .fetch_one(&mut *connection)
        .await?;
        if owner != runner {
            carried.push(format!("ALTER TABLE {name} OWNER TO {owner}"));
        }
        let grants: Vec<(String, String, bool)> = sqlx::query_as(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
                    a.privilege_type, a.is_grantable \
             FROM pg_class c, aclexplode(c.relacl) a \
             WHERE c.oid = to_regclass($1) AND a.grantee <> c.relowner",
        )
        .bind(name)
        .fetch_all(&mut *connection)
        .await?;
        for (grantee, privilege, grantable) in grants {
            let option = if grantable { " WITH GRANT OPTION" } else { "" };
            carried.push(format!("GRANT {privilege} ON {name} TO {grantee}{option}"));
        }
        let triggers: Vec<String> = sqlx::query_scalar(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal",
        )
        .bind(name)
        .fetch_all(&mut *connection)
        .await?;
        carried.extend(triggers);
        let mut old = indexes(connection, name).await?;
        let new = indexes(connection, &format!("{rebuilt}.{}", ident(table))).await?;
        for (new_name, shape) in new {
            // Each old name is given once, even to two indexes of one shape.
            if let Some(found) = old.iter().position(|(_, old_shape)| *old_shape == shape) {
                let (old_name, _) = old.swap_remove(found);
                renames.push((new_name, old_name));
            }
        }
    }
    let mut statements = vec![
        format!("DROP SCHEMA IF EXISTS {replaced} CASCADE"),
        format!("CREATE SCHEMA {replaced}"),
    ];
    for table in spec.tables {
        let table = ident(table);
        statements.push(format!("ALTER TABLE {live}.{table} SET SCHEMA {replaced}"));
        statements.push(format!("ALTER TABLE {rebuilt}.{table} SET SCHEMA {live}"));
    }
    // Through temporary names, so no rename meets a name another still has.
    for (index, (new_name, _)) in renames.iter().enumerate() {
        statements.push(format!(
            "ALTER INDEX {live}.{} RENAME TO {}",
            ident(new_name),
            ident(&format!("ledgerbot_rebuild_index_{index}"))
        ));
    }
    for (index, (_, old_name)) in renames.iter().enumerate() {
        statements.push(format!(
            "ALTER INDEX {live}.{} RENAME TO {}",
            ident(&format!("ledgerbot_rebuild_index_{index}")),
            ident(old_name)
        ));
    }
    for (view, definition) in &views {
        statements.push(format!("CREATE OR REPLACE VIEW {view} AS {definition}"));
    }
    statements.extend(carried);
    for statement in statements {
        sqlx::query(&statement).execute(&mut *connection).await?;
    }
    sqlx::query(&format!(
        "INSERT INTO {live}.projection_checkpoints (projection, aggregate_type, aggregate_id, sequence, recorded_at) \
         SELECT $1, aggregate_type, aggregate_id, sequence, recorded_at FROM {rebuilt}.rebuild_applied \
         ON CONFLICT (projection, aggregate_type, aggregate_id) DO UPDATE \
         SET sequence = EXCLUDED.sequence, recorded_at = EXCLUDED.recorded_at \
         WHERE projection_checkpoints.sequence < EXCLUDED.sequence"
    ))
    .bind(projection)
    .execute(&mut *connection)
    .await?;
    // An aggregate the live workers held back is applied in the rebuild now.
    sqlx::query(&format!(
        "DELETE FROM {live}.projection_retrying t USING {rebuilt}.rebuild_applied r \
         WHERE t.projection = $1 AND t.aggregate_type = r.aggregate_type \
           AND t.aggregate_id = r.aggregate_id AND t.sequence <= r.sequence"
    ))
    .bind(projection)
    .execute(&mut *connection)
    .await?;
    sqlx::query(&format!(
        "DELETE FROM {live}.projection_parked WHERE projection = $1"
    ))
    .bind(projection)
    .execute(&mut *connection)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {live}.projection_parked (projection, aggregate_type, aggregate_id, sequence, error) \
         SELECT $1, aggregate_type, aggregate_id, sequence, error FROM {rebuilt}.rebuild_parked"
    ))
    .bind(projection)
    .execute(&mut *connection)
    .await?;
    for statement in [
        format!("DROP SCHEMA {replaced} CASCADE"),
        format!("DROP SCHEMA {rebuilt} CASCADE"),
    ] {
        sqlx::query(&statement).execute(&mut *connection).await?;
    }
    Ok(())
}

/// A table's indexes: name, and its shape (unique or not, method, columns,
/// predicate) without the names of index and table.
async fn indexes(
    connection: &mut PgConnection,
    table: &str,
) -> Result<Vec<(String, String)>, ReplayError> {
    let found: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.relname::text, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE x.indrelid = to_regclass($1) ORDER BY i.relname",
    )
    .bind(table)
    .fetch_all(&mut *connection)
    .await?;
    Ok(found
        .into_iter()
        .map(|(name, definition)| {
            let unique = definition.starts_with("CREATE UNIQUE");
            let shape = definition
                .split_once(" USING ")
                .map(|(_, shape)| shape.to_owned())
                .unwrap_or(definition.clone());
            (name, format!("{unique} {shape}"))
        })
        .collect())
}
