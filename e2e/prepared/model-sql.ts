/**
 * The e2e model's SQL: the unit model's abstract statement texts (programs.test-util.ts, what
 * FakeBackend understands) rendered as real PostgreSQL SQL with the same `$n` parameters, the
 * same row per statement and parameters, and the same way of failing — `ERR…` at Parse (a
 * missing table, 42P01), `…FAIL…` at execution (division by zero, 22012), and any parameter
 * `boom` at execution (22023, raised by m_v).
 */
import type { Dialect } from '../../plugins/prepared-statements/src/programs.test-util.js';

/** Run once per database, as its owner or a superuser. */
export const SCHEMA_SQL = `
CREATE FUNCTION m_v(t text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF t = 'boom' THEN RAISE EXCEPTION 'boom value' USING ERRCODE = '22023'; END IF;
  RETURN t;
END $$;
CREATE FUNCTION m_div0(t text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN t || (1 / (length(t) * 0))::text;
END $$;
`;

const TEXT: Record<string, string> = {
  'SELECT a': `SELECT 'a' AS r`,
  'SELECT b $1': `SELECT 'b:' || m_v($1) AS r`,
  'SELECT c $1 $2': `SELECT 'c:' || m_v($1) || ',' || m_v($2) AS r`,
  'SELECT d $1': `SELECT 'd:' || m_v($1) AS r, 4 AS n`,
  'SELECT e': `SELECT 'e' AS r, 5 AS n`,
  'ERR f': `SELECT r FROM m_missing_f`,
  'SELECT FAIL g $1': `SELECT 'g:' || m_div0(m_v($1)) AS r`,
  // With errors in transactions every text takes one parameter (see TEXTS_ONE_PARAM).
  'SELECT a $1': `SELECT 'a:' || m_v($1) AS r`,
  'SELECT c $1': `SELECT 'c:' || m_v($1) AS r, 3 AS n`,
  'SELECT e $1': `SELECT 'e:' || m_v($1) AS r, 5 AS n`,
  'ERR f $1': `SELECT m_v($1) FROM m_missing_f`,
};

const QUERY: Record<string, string> = {
  'SELECT 1': 'SELECT 1',
  '': '',
  'FAIL now': `SELECT m_div0('now')`,
};

function known(map: Record<string, string>, what: string, abstract: string): string {
  const sql = map[abstract];
  // A text the unit model gained that this file does not know yet: fail loudly, not silently.
  if (sql === undefined) throw new Error(`e2e model: no SQL for the ${what} ${JSON.stringify(abstract)} (add it to e2e/prepared/model-sql.ts)`);
  return sql;
}

export const PG_DIALECT: Dialect = {
  text: (t) => known(TEXT, 'statement text', t),
  // DEALLOCATE [name|ALL], DISCARD ALL, BEGIN/COMMIT/ROLLBACK are PostgreSQL's own already.
  query: (q) => (/^(deallocate|discard|begin|commit|rollback)\b/i.test(q) ? q : known(QUERY, 'simple query', q)),
};
