// Checks the API description with tools that know nothing of the service:
//   1. the document is valid OpenAPI 3.1 (the specification's own JSON schema);
//   2. every response the tests recorded (tests set CLOUD_PROVIDERS_RESPONSE_LOG) is one the
//      document describes: its status is listed for its path and method, its content type is the
//      listed one, its required headers are present, and its body validates against the schema.
// Usage: node check.mjs <openapi.json> <responses.jsonl>
// Prints what failed, then "openapi: N passed, M failed" for the test command's tally.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [documentPath, responsesPath] = process.argv.slice(2);
const document = JSON.parse(readFileSync(documentPath, "utf8"));
let passed = 0;
let failed = 0;
const fail = (what) => {
  failed++;
  console.error(`openapi: ${what}`);
};

// 1. The document itself.
const lint = await new Validator().validate(document);
if (lint.valid && document.openapi?.startsWith("3.1")) {
  passed++;
} else {
  fail(`the document is not valid OpenAPI 3.1: ${JSON.stringify(lint.errors ?? document.openapi)}`);
}

// 2. The responses. The document's component schemas become $defs of one JSON Schema 2020-12.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const rewrite = (schema) => JSON.parse(JSON.stringify(schema).replaceAll("#/components/schemas/", "#/$defs/"));
const defs = rewrite(document.components?.schemas ?? {});
const validators = new Map();
const validatorFor = (schema) => {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) {
    validators.set(key, ajv.compile({ ...rewrite(schema), $defs: defs }));
  }
  return validators.get(key);
};

const paths = new Map(Object.entries(document.paths).map(([template, item]) => [template.toLowerCase(), item]));
const lines = readFileSync(responsesPath, "utf8").split("\n").filter((line) => line.trim() !== "");
const outside = new Map();
let checked = 0;
let wrong = 0;
for (const line of lines) {
  const r = JSON.parse(line);
  // Routes match without regard to case or a trailing slash, as ASP.NET Core's routing does.
  const path = paths.get(r.path.toLowerCase().replace(/(.)\/$/, "$1"));
  if (!path) {
    // Unknown paths (404) and paths the tests invent are not part of the description.
    outside.set(r.status, (outside.get(r.status) ?? 0) + 1);
    continue;
  }
  checked++;
  const method = r.method.toLowerCase();
  // Another method on a described path is answered 405: any operation of the path describes it.
  const operation = path[method] ?? (r.status === 405 ? Object.values(path).find((o) => o.responses?.["405"]) : undefined);
  const problems = [];
  const described = operation?.responses?.[String(r.status)];
  if (!described) {
    problems.push(`status ${r.status} is not described`);
  } else {
    for (const [name, header] of Object.entries(described.headers ?? {})) {
      if (header.required && r.headers[name.toLowerCase()] === undefined) {
        problems.push(`header ${name} is missing`);
      }
    }
    const media = Object.entries(described.content ?? {});
    if (media.length === 0) {
      if (r.body !== "") problems.push("a body where none is described");
    } else {
      const match = media.find(([type]) => type === r.contentType);
      if (!match) {
        problems.push(`content type ${r.contentType} is not ${media.map(([type]) => type).join(" or ")}`);
      } else if (r.method !== "HEAD" && r.contentType === "application/json") {
        let body;
        try {
          body = JSON.parse(r.body);
        } catch {
          problems.push("the body is not JSON");
        }
        if (body !== undefined) {
          const validate = validatorFor(match[1].schema);
          if (!validate(body)) {
            problems.push(`the body ${r.body} does not match: ${ajv.errorsText(validate.errors)}`);
          }
        }
      }
    }
  }
  if (problems.length > 0) {
    wrong++;
    if (wrong <= 20) {
      console.error(`openapi: ${r.origin} ${r.method} ${r.path} -> ${r.status}: ${problems.join("; ")}`);
    }
  }
}
if (checked === 0) {
  fail("no recorded response was on a described path");
} else if (wrong > 0) {
  fail(`${wrong} of ${checked} recorded responses do not match the document`);
} else {
  passed++;
}
const skipped = [...outside.entries()].map(([status, count]) => `${count} x ${status}`).join(", ");
console.log(`openapi: ${checked} recorded responses checked against the document${skipped ? ` (outside it: ${skipped})` : ""}`);
console.log(`openapi: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
