'use strict';
// Writes the seven Wonder action nodes' editor definitions and help pages, the
// files Node-RED loads (dist/nodes/<type>.html and dist/nodes/locales/<lang>/<type>.html),
// from one source: nodes/action-nodes/table.js (each node's fields, inputs, outputs),
// nodes/action-nodes/{editor,help}.html.template and locales/<lang>/action-nodes.json
// (the help texts). scripts/build.js calls writeActionNodeFiles after copying locales/.
const fs = require('node:fs');
const path = require('node:path');

const LANGS = ['en-US', 'zh-TW', 'zh-CN'];
const DEFAULT_OUTPUT_HELP = [['payload', 'object'], ['wonder', 'object']];

function fill(template, values, where) {
  return template.replace(/\{\{([\w.]+)\}\}/g, (_, key) => {
    const value = key.split('.').reduce((o, k) => (o === undefined ? undefined : o[k]), values);
    if (value === undefined) throw new Error(`${where}: no value for {{${key}}}`);
    return String(value);
  });
}

/** Editor JS source: a string as it is, a function or number by its text. */
function source(value) {
  return typeof value === 'function' || typeof value === 'number' ? String(value) : value;
}

function defaultsOf(field) {
  switch (field.kind) {
    case 'typed':
      return [
        `${field.name}: { value: "", validate: RED.validators.typedInput("${field.name}Type") }`,
        `${field.name}Type: { value: "str" }`,
      ];
    case 'checkbox':
      return [`${field.name}: { value: ${field.value === true} }`];
    case 'input':
      return [`${field.name}: { value: ${JSON.stringify(field.value ?? '')}${field.validate ? `, validate: ${source(field.validate)}` : ''} }`];
    case 'select':
      return [`${field.name}: { value: ${JSON.stringify(field.value ?? field.options[0][0])} }`];
    case 'tip':
      return [];
    default:
      throw new Error(`action node field ${JSON.stringify(field)}: unknown kind`);
  }
}

function fieldRow(type, field) {
  const label = (icon) =>
    `        <label for="node-input-${field.name}"><i class="fa ${icon}"></i> <span data-i18n="${type}.label.${field.name}"></span></label>\n`;
  switch (field.kind) {
    case 'typed':
      return `    <div class="form-row">\n${label(field.icon)}` +
        `        <input type="text" id="node-input-${field.name}" style="width:70%" placeholder="${field.placeholder}">\n` +
        `        <input type="hidden" id="node-input-${field.name}Type">\n    </div>\n`;
    case 'checkbox':
      return `    <div class="form-row">\n${label(field.icon ?? 'fa-check-square-o')}` +
        `        <input type="checkbox" id="node-input-${field.name}" style="display:inline-block; width:auto; vertical-align:top;">\n` +
        (field.after ? `        ${field.after}\n` : '') + `    </div>\n`;
    case 'select':
      return `    <div class="form-row">\n${label(field.icon)}` +
        `        <select id="node-input-${field.name}" style="width:70%">\n` +
        field.options.map(([value, key]) => `            <option value="${value}" data-i18n="${key}"></option>\n`).join('') +
        `        </select>\n    </div>\n`;
    case 'input':
      return `    <div class="form-row">\n${label(field.icon)}` +
        `        <input type="text" id="node-input-${field.name}"${field.placeholder ? ` placeholder="${field.placeholder}"` : ''}>\n    </div>\n`;
    case 'tip':
      return `    <div class="form-tips" data-i18n="${type}.tip"></div>\n`;
    default:
      throw new Error(`${type}: unknown field kind ${field.kind}`);
  }
}

function editorHtml(template, row) {
  const fields = row.fields ?? [];
  const defaults = [...fields.flatMap(defaultsOf), ...(row.extraDefaults ?? [])].map((line) => `,\n            ${line}`).join('');
  const editor = Object.entries(row.editor ?? {}).map(([key, value]) => `,\n        ${key}: ${source(value)}`).join('');
  return fill(template, {
    type: row.type,
    icon: row.icon,
    outputs: source(row.outputs ?? 1),
    defaults,
    editor,
    fields: fields.map((field) => fieldRow(row.type, field)).join(''),
  }, `${row.type} editor`);
}

function helpHtml(template, row, texts, lang) {
  const where = `locales/${lang}/action-nodes.json`;
  const own = texts.nodes[row.type];
  if (!own) throw new Error(`${where}: no help texts for ${row.type}`);
  const text = (section, name) => {
    const value = own[section]?.[name] ?? texts.common[section]?.[name];
    if (value === undefined) throw new Error(`${where}: no text for ${row.type} ${section} ${name}`);
    return value;
  };
  const inputs = (row.inputs ?? []).map(([name, type, optional]) =>
    `        <dt${optional ? ' class="optional"' : ''}>${name} <span class="property-type">${type}</span></dt>\n` +
    `        <dd>${text('inputs', name)}</dd>\n`).join('');
  const outputs = (row.outputHelp ?? DEFAULT_OUTPUT_HELP).map(([name, type]) =>
    `    <dt>${name} <span class="property-type">${type}</span></dt>\n    <dd>${text('outputs', name)}</dd>\n`).join('');
  // Payments (sale, refund, void) can send a message no input started: a recovered or a duplicate outcome.
  const details = [...own.details, ...(row.payment === true ? [texts.common.unprompted] : []), texts.common.errors].map((p) => `    <p>${p}</p>\n`).join('');
  const references = texts.common.references
    .map((r) => `        <li><a href="${r.url}" target="_blank" rel="noopener noreferrer">${r.title}</a> - ${r.text}</li>\n`)
    .join('');
  return fill(template, { type: row.type, summary: own.summary, headings: texts.common.headings, inputs, outputs, details, references }, `${where} ${row.type}`);
}

/** Every generated file: path relative to dist/nodes/ → its text (`table` defaults to nodes/action-nodes/table.js). */
function renderActionNodeFiles(root, table) {
  const dir = path.resolve(root, 'nodes', 'action-nodes');
  table ??= require(path.join(dir, 'table.js'));
  const editorTemplate = fs.readFileSync(path.join(dir, 'editor.html.template'), 'utf8');
  const helpTemplate = fs.readFileSync(path.join(dir, 'help.html.template'), 'utf8');
  const files = new Map();
  for (const row of table) files.set(`${row.type}.html`, editorHtml(editorTemplate, row));
  for (const lang of LANGS) {
    const texts = JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, 'action-nodes.json'), 'utf8'));
    for (const row of table) files.set(path.join('locales', lang, `${row.type}.html`), helpHtml(helpTemplate, row, texts, lang));
  }
  return files;
}

/** Writes the files into nodesOut (unchanged ones are left alone) and drops the copied sources. */
function writeActionNodeFiles(root, nodesOut) {
  for (const [rel, text] of renderActionNodeFiles(root)) {
    const file = path.join(nodesOut, rel);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  for (const lang of LANGS) fs.rmSync(path.join(nodesOut, 'locales', lang, 'action-nodes.json'), { force: true });
}

module.exports = { LANGS, renderActionNodeFiles, writeActionNodeFiles };
