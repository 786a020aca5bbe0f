-- Prints every object of the claudecost extension, with its definition,
-- privileges and comment, and the rows the extension ships, one line each in
-- a fixed order.  Two databases whose outputs are equal hold the same
-- extension: tools/test-suites.d/upgrade compares an upgraded install with a
-- fresh one this way.  Run with psql -X -At.

WITH ext AS (
    SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
    WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
      AND d.deptype = 'e'
      AND e.extname = 'claudecost'
),
functions AS (
    SELECT 'function ' || p.oid::pg_catalog.regprocedure::text AS name,
           pg_catalog.pg_get_functiondef(p.oid)
           || ' acl=' || coalesce(p.proacl::text, 'default')
           || ' comment=' || coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') AS definition
    FROM ext JOIN pg_catalog.pg_proc p ON p.oid = ext.objid
    WHERE ext.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
      AND p.prokind <> 'a'
),
aggregates AS (
    SELECT 'aggregate ' || p.oid::pg_catalog.regprocedure::text,
           a.aggtransfn::text || ' ' || a.aggfinalfn::text || ' ' || a.aggtranstype::pg_catalog.regtype::text
           || ' acl=' || coalesce(p.proacl::text, 'default')
    FROM ext JOIN pg_catalog.pg_proc p ON p.oid = ext.objid
    JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
    WHERE ext.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
),
relations AS (
    SELECT c.oid, c.relkind, c.oid::pg_catalog.regclass::text AS name
    FROM ext JOIN pg_catalog.pg_class c ON c.oid = ext.objid
    WHERE ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
),
relation_lines AS (
    SELECT 'relation ' || r.name,
           'kind=' || r.relkind::text
           || ' acl=' || coalesce(c.relacl::text, 'default')
           || ' rls=' || c.relrowsecurity::text || '/' || c.relforcerowsecurity::text
           || ' options=' || coalesce(c.reloptions::text, '')
           || ' comment=' || coalesce(pg_catalog.obj_description(r.oid, 'pg_class'), '')
           || CASE WHEN r.relkind IN ('v', 'm') THEN ' view=' || pg_catalog.pg_get_viewdef(r.oid) ELSE '' END
    FROM relations r JOIN pg_catalog.pg_class c ON c.oid = r.oid
),
columns AS (
    SELECT 'column ' || r.name || '.' || a.attname,
           a.attnum::text || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || ' default=' || coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')
           || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
           || ' collation=' || coalesce(a.attcollation::pg_catalog.regcollation::text, '')
           || ' acl=' || coalesce(a.attacl::text, 'default')
           || ' comment=' || coalesce(pg_catalog.col_description(r.oid, a.attnum), '')
    FROM relations r
    JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = r.oid AND d.adnum = a.attnum
),
constraints AS (
    SELECT 'constraint ' || r.name || ' ' || co.conname,
           pg_catalog.pg_get_constraintdef(co.oid)
    FROM relations r JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
),
indexes AS (
    SELECT 'index ' || r.name || ' ' || i.indexrelid::pg_catalog.regclass::text,
           pg_catalog.pg_get_indexdef(i.indexrelid)
    FROM relations r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
),
triggers AS (
    SELECT 'trigger ' || r.name || ' ' || t.tgname,
           pg_catalog.pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
    FROM relations r JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid
    WHERE NOT t.tgisinternal
),
policies AS (
    SELECT 'policy ' || r.name || ' ' || po.polname,
           po.polcmd::text || ' ' || po.polpermissive::text || ' ' || po.polroles::text
           || ' using=' || coalesce(pg_catalog.pg_get_expr(po.polqual, po.polrelid), '')
           || ' check=' || coalesce(pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid), '')
    FROM relations r JOIN pg_catalog.pg_policy po ON po.polrelid = r.oid
),
types AS (
    SELECT 'type ' || t.oid::pg_catalog.regtype::text,
           t.typtype::text || ' acl=' || coalesce(t.typacl::text, 'default')
           || ' labels=' || coalesce((SELECT pg_catalog.string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                      FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '')
           || ' comment=' || coalesce(pg_catalog.obj_description(t.oid, 'pg_type'), '')
    FROM ext JOIN pg_catalog.pg_type t ON t.oid = ext.objid
    WHERE ext.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
),
other_objects AS (
    SELECT 'object ' || pg_catalog.pg_describe_object(ext.classid, ext.objid, 0), ''
    FROM ext
    WHERE ext.classid NOT IN ('pg_catalog.pg_proc'::pg_catalog.regclass,
                              'pg_catalog.pg_class'::pg_catalog.regclass,
                              'pg_catalog.pg_type'::pg_catalog.regclass)
),
config_dump AS (
    SELECT 'dumped ' || c.oid::pg_catalog.regclass::text, coalesce(e.extcondition[i], '')
    FROM pg_catalog.pg_extension e,
         pg_catalog.generate_subscripts(e.extconfig, 1) AS i
    JOIN pg_catalog.pg_class c ON true
    WHERE e.extname = 'claudecost' AND c.oid = e.extconfig[i]
),
schema_acl AS (
    SELECT 'schema ' || n.nspname,
           'acl=' || coalesce(n.nspacl::text, 'default')
           || ' comment=' || coalesce(pg_catalog.obj_description(n.oid, 'pg_namespace'), '')
    FROM pg_catalog.pg_namespace n WHERE n.nspname = 'claudecost'
)
SELECT name || ' :: ' || definition
FROM (
    SELECT * FROM functions
    UNION ALL SELECT * FROM aggregates
    UNION ALL SELECT * FROM relation_lines
    UNION ALL SELECT * FROM columns
    UNION ALL SELECT * FROM constraints
    UNION ALL SELECT * FROM indexes
    UNION ALL SELECT * FROM triggers
    UNION ALL SELECT * FROM policies
    UNION ALL SELECT * FROM types
    UNION ALL SELECT * FROM other_objects
    UNION ALL SELECT * FROM config_dump
    UNION ALL SELECT * FROM schema_acl
) AS catalog(name, definition)
ORDER BY name COLLATE "C", definition COLLATE "C";
