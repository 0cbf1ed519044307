#!/usr/bin/env node
// Validates Kubernetes objects from multi-document YAML (as `helm template` prints it)
// against the Kubernetes OpenAPI schemas, offline, with the npm package kubernetes-models
// (and @kubernetes-models/prometheus-operator for ServiceMonitor):
//
//   node tests/helm/validate.js [--tools DIR] [--json OUT] FILE.yaml|- ...
//
// Each object is checked twice:
//   1. `new Kind(obj).validate()`: types, required fields, enums, formats.
//   2. unknown fields: those schemas do not forbid fields they do not list (the API server
//      does, with strict field validation), so every field is also looked up in the
//      package's generated type declarations (.d.ts), which list each schema's fields.
// Prints one line per object; on the first bad object prints "Kind/name: path: problem"
// and exits 1. --json writes every parsed object as a JSON array (for the Python tests).
// DIR is the npm prefix holding node_modules (default <repo>/.tools/npm).
"use strict";

const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

function parseArgs(argv) {
  const out = { tools: path.join(__dirname, "..", "..", ".tools", "npm"), json: null, files: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--tools") out.tools = argv[++i];
    else if (argv[i] === "--json") out.json = argv[++i];
    else out.files.push(argv[i]);
  }
  if (out.files.length === 0) {
    throw new Error("usage: validate.js [--tools DIR] [--json OUT] FILE.yaml|- ...");
  }
  return out;
}

// apiVersion -> [package dir, sub dir] in node_modules.
function modelLocation(apiVersion) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return ["@kubernetes-models/prometheus-operator", apiVersion];
  }
  return ["kubernetes-models", apiVersion];
}

async function loadModel(modules, apiVersion, kind) {
  const [pkg, sub] = modelLocation(apiVersion);
  const file = path.join(modules, pkg, sub, kind + ".js");
  if (!/^[A-Za-z0-9]+$/.test(kind) || !fs.existsSync(file)) return null;
  const mod = await import(pathToFileURL(file).href);
  return { Model: mod[kind], dts: file.replace(/\.js$/, ".d.ts") };
}

// --- unknown fields, from the .d.ts declarations -------------------------------------

const interfaceCache = new Map();

function resolveImport(fromFile, spec, modules) {
  let target;
  if (spec.startsWith(".")) target = path.resolve(path.dirname(fromFile), spec);
  else target = path.join(modules, spec);
  target = target.replace(/\.js$/, "");
  return target + ".d.ts";
}

// Reads the first interface of a .d.ts: { fields: Map(name -> type text), imports }.
// Returns null when the file declares no interface (type aliases such as IntOrString).
function readInterface(file, modules) {
  if (interfaceCache.has(file)) return interfaceCache.get(file);
  let result = null;
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "");
    const imports = new Map();
    for (const m of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
      for (const name of m[1].split(",").map((s) => s.trim())) {
        imports.set(name, resolveImport(file, m[2], modules));
      }
    }
    const start = text.search(/export interface \w+[^{]*\{/);
    if (start >= 0) {
      const fields = new Map();
      let depth = 0;
      const body = text.slice(text.indexOf("{", start));
      for (const line of body.split("\n")) {
        if (depth === 1) {
          const f = line.match(/^\s*"([^"]+)"\??: (.*?);?\s*$/);
          if (f) fields.set(f[1], f[2]);
        }
        for (const ch of line) {
          if (ch === "{") depth++;
          else if (ch === "}") depth--;
        }
        if (depth === 0) break;
      }
      result = { fields, imports };
    }
  }
  interfaceCache.set(file, result);
  return result;
}

// Walks `value` along the declared interface in `file`; returns "path: problem" or null.
function findUnknownField(value, file, where, modules) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const iface = readInterface(file, modules);
  if (iface === null || iface.fields.size === 0) return null;
  for (const [key, child] of Object.entries(value)) {
    const type = iface.fields.get(key);
    const here = `${where}/${key}`;
    if (type === undefined) {
      return `${here}: unknown field "${key}" (not in the Kubernetes schema)`;
    }
    let m = type.match(/^(\w+)$/);
    if (m && iface.imports.has(m[1])) {
      const problem = findUnknownField(child, iface.imports.get(m[1]), here, modules);
      if (problem) return problem;
      continue;
    }
    m = type.match(/^Array<(\w+)>$/);
    if (m && iface.imports.has(m[1]) && Array.isArray(child)) {
      for (let i = 0; i < child.length; i++) {
        const problem = findUnknownField(child[i], iface.imports.get(m[1]), `${here}/${i}`, modules);
        if (problem) return problem;
      }
    }
  }
  return null;
}

// --- main ----------------------------------------------------------------------------

function describe(obj) {
  const name = (obj && obj.metadata && obj.metadata.name) || "<no name>";
  return `${(obj && obj.kind) || "<no kind>"}/${name}`;
}

function validationMessage(err) {
  if (Array.isArray(err.errors) && err.errors.length > 0) {
    return err.errors.map((e) => `${e.instancePath || "/"}: ${e.message}` +
      (e.params && e.params.allowedValues ? ` (${e.params.allowedValues.join(", ")})` : "") +
      (e.params && e.params.missingProperty ? ` "${e.params.missingProperty}"` : "")).join("; ");
  }
  return err.message;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const modules = path.join(args.tools, "node_modules");
  if (!fs.existsSync(path.join(modules, "kubernetes-models"))) {
    throw new Error(`kubernetes-models is not installed in ${args.tools} (run scripts/install-deps)`);
  }
  const YAML = require(path.join(modules, "yaml"));
  const objects = [];
  for (const f of args.files) {
    const text = fs.readFileSync(f === "-" ? 0 : f, "utf8");
    // YAML 1.1, as Kubernetes reads manifests (0644 is octal there).
    for (const doc of YAML.parseAllDocuments(text, { version: "1.1" })) {
      if (doc.errors.length > 0) throw new Error(`${f}: YAML: ${doc.errors[0].message}`);
      const obj = doc.toJS();
      if (obj !== null && obj !== undefined) objects.push(obj);
    }
  }
  let failures = 0;
  for (const obj of objects) {
    const id = describe(obj);
    if (typeof obj !== "object" || !obj.apiVersion || !obj.kind) {
      console.log(`FAIL ${id}: not a Kubernetes object (apiVersion and kind are required)`);
      failures++;
      continue;
    }
    const model = await loadModel(modules, obj.apiVersion, obj.kind);
    if (model === null) {
      console.log(`FAIL ${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
      failures++;
      continue;
    }
    try {
      new model.Model(obj).validate();
    } catch (err) {
      console.log(`FAIL ${id}: ${validationMessage(err)}`);
      failures++;
      continue;
    }
    const unknown = findUnknownField(obj, model.dts, "", modules);
    if (unknown) {
      console.log(`FAIL ${id}: ${unknown}`);
      failures++;
      continue;
    }
    console.log(`ok   ${obj.apiVersion} ${id}`);
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(objects, null, 1));
  console.log(`${objects.length} objects, ${failures} invalid`);
  process.exitCode = failures === 0 && objects.length > 0 ? 0 : 1;
}

main().catch((err) => {
  console.log(`validate.js: ${err.message}`);
  process.exitCode = 2;
});
