// Runs Neo4j's own Cypher front end (the semantic analysis of the Neo4j
// server, compiled for JavaScript) over statements learngraph sends.
//
// Usage: node lint.mjs STATEMENTS.json
// The file holds [{"name": ..., "text": ...}]. Each statement is checked
// as CYPHER 5 and as CYPHER 25; every error, warning or deprecation is
// printed, one per line, as "name [version] severity: message", and the
// exit code is 1 if there is any. Parameters ($name) are declared to the
// linter so that only the statement's own text is judged.
import { readFileSync } from 'node:fs';
import { lintCypherQuery } from '@neo4j-cypher/language-support';

const statements = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const versions = ['CYPHER 5', 'CYPHER 25'];
const severityName = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };
let findings = 0;
let checked = 0;
for (const { name, text } of statements) {
  const parameters = {};
  for (const [, parameter] of text.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
    parameters[parameter] = [];
  }
  for (const version of versions) {
    const { diagnostics } = lintCypherQuery(`${version} ${text}`, { parameters });
    checked += 1;
    for (const d of diagnostics) {
      findings += 1;
      console.log(`${name} [${version}] ${severityName[d.severity] ?? d.severity}: ${d.message}`);
    }
  }
}
console.log(`checked ${statements.length} statements, ${checked} statement-versions: ${findings} findings`);
process.exit(findings === 0 ? 0 : 1);
