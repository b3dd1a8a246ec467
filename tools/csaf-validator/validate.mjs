// Validate CSAF 2.0 documents with the reference validator library (the one Secvisogram uses): the strict JSON
// schema, every mandatory test (6.1) and every optional test (6.2). Informative tests (6.3) are not run: they
// need a spell checker and network access.
//
// Usage: node validate.mjs FILE.json...    Prints one JSON report on stdout; exits 1 when any document has a
// finding (an error or a warning of any test run), 2 on a usage or read error.
import { readFile } from 'node:fs/promises'
import validateStrict from '@secvisogram/csaf-validator-lib/validateStrict.js'
import * as mandatory from '@secvisogram/csaf-validator-lib/mandatoryTests.js'
import * as optional from '@secvisogram/csaf-validator-lib/optionalTests.js'
import { csaf_2_0_strict } from '@secvisogram/csaf-validator-lib/schemaTests.js'

const GROUPS = {
  schema: [csaf_2_0_strict],
  mandatory: Object.values(mandatory),
  optional: Object.values(optional),
}

const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: node validate.mjs FILE.json...')
  process.exit(2)
}

const report = { documents: [], failures: 0 }
for (const file of files) {
  let document
  try {
    document = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    console.error(`${file}: ${error.message}`)
    process.exit(2)
  }
  const entry = { file, id: document?.document?.tracking?.id ?? null, tests: {}, findings: [] }
  for (const [group, tests] of Object.entries(GROUPS)) {
    const result = await validateStrict(tests, document)
    entry.tests[group] = result.tests.length
    for (const test of result.tests) {
      for (const kind of ['errors', 'warnings']) {
        for (const finding of test[kind]) {
          entry.findings.push({ group, test: test.name, kind, path: finding.instancePath, message: finding.message })
        }
      }
      if (!test.isValid && test.errors.length === 0) {
        entry.findings.push({ group, test: test.name, kind: 'errors', path: '', message: 'test failed' })
      }
    }
  }
  report.failures += entry.findings.length
  report.documents.push(entry)
}

console.log(JSON.stringify(report, null, 2))
process.exit(report.failures === 0 ? 0 : 1)
