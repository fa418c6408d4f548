'use strict';
/*
 * The seven Wonder action nodes, one row each. scripts/editor-templates.js turns
 * this table, editor.html.template and help.html.template (texts from
 * locales/<lang>/action-nodes.json) into dist/nodes/<type>.html and
 * dist/nodes/locales/<lang>/<type>.html, the files Node-RED loads.
 *
 * A row:
 *   type      the node type (also the i18n namespace of its labels: locales/<lang>/<type>.json)
 *   icon      file under icons/
 *   fields    dialog fields between "terminal" and "name", each one of
 *               { kind: 'typed', name, icon, placeholder }   a typed input (msg, flow, global, env, str)
 *                                                            saved as <name> and <name>Type
 *               { kind: 'checkbox', name, icon, value }       a checkbox, default `value` (false)
 *               { kind: 'input', name, icon, placeholder, value, validate }
 *                                                            a text input; validate is editor JS source
 *               { kind: 'select', name, icon, options: [[value, i18n key]], value }
 *                                                            a drop-down, default `value` (the first option)
 *               { kind: 'tip' }                               the <type>.tip text
 *             a checkbox may carry `after`: editor HTML placed after it in its row.
 *             labels are the i18n keys <type>.label.<name>.
 *   outputs   a number, or editor JS source (e.g. a function) for a node whose outputs change
 *   extraDefaults  more `defaults` entries, as editor JS source (e.g. 'outputs: { value: 1 }')
 *   editor    more registerType properties: name → editor JS source (oneditprepare, oneditsave, outputLabels…)
 *   payment   true for sale, refund and void: their help also says what they send with no input (recovered, duplicate)
 *   inputs    the help's message properties: [name, type, optional?]; texts are
 *             nodes.<type>.inputs.<name> in action-nodes.json, else common.inputs.<name>
 */

/** The receipt's width on paper (sale, refund, void): 58 mm or 80 mm rolls. */
const receiptField = (type) => ({
  kind: 'select',
  name: 'receiptWidth',
  icon: 'fa-print',
  value: '32',
  options: [['32', `${type}.kiosk.width32`], ['48', `${type}.kiosk.width48`]],
});

/**
 * Sale and refund: a checkbox for a second output with the payment's progress (for a customer display);
 * unticked, one output, as before. The node's `outputs` follows the box when the dialog is saved.
 */
const progress = (type) => ({
  fields: [
    { kind: 'checkbox', name: 'progress', icon: 'fa-tv', after: `<span data-i18n="${type}.kiosk.progressBox"></span>\n        <input type="hidden" id="node-input-outputs">` },
    receiptField(type),
  ],
  extraDefaults: ['outputs: { value: 1 }'],
  editor: {
    outputLabels: `function (i) { return RED._("node-red-contrib-wonder-ecr/${type}:${type}.kiosk." + (i === 0 ? "outputs.outcome" : "outputs.progress")); }`,
    oneditsave: 'function () { $("#node-input-outputs").val($("#node-input-progress").is(":checked") ? 2 : 1); }',
  },
});

/**
 * Sale, refund, void and status (their answers carry the card): the card's first six digits, hash and
 * token in msg.payload only when ticked (off by default); unticked, its brand and last four digits only.
 */
const rawCardField = () => ({
  kind: 'checkbox',
  name: 'rawCard',
  icon: 'fa-credit-card',
  after: '<span data-i18n="node-red-contrib-wonder-ecr/wonder-terminal:rawCard.box"></span>',
});

/** Sale and refund: amount and currency, each from the payload or set here. */
const amountFields = () => [
  { kind: 'typed', name: 'amount', icon: 'fa-money', placeholder: '10.20' },
  { kind: 'typed', name: 'currency', icon: 'fa-usd', placeholder: 'HKD' },
  { kind: 'tip' },
];

module.exports = [
  { type: 'wonder-pair', icon: 'wonder-pair.svg', inputs: [['payload', 'any']] },
  { type: 'wonder-device-info', icon: 'wonder-info.svg', inputs: [['payload', 'any']] },
  {
    type: 'wonder-sale',
    icon: 'wonder-sale.svg',
    payment: true,
    fields: [...amountFields(), ...progress('wonder-sale').fields, rawCardField()],
    extraDefaults: progress('wonder-sale').extraDefaults,
    editor: { ...progress('wonder-sale').editor, oneditprepare: 'WonderEcrEditor.amountInputs' },
    inputs: [
      ['payload.amount', 'string'],
      ['payload.currency', 'string'],
      ['payload.customerOrderID', 'string', 'optional'],
      ['payload.referenceID', 'string', 'optional'],
    ],
  },
  {
    type: 'wonder-refund',
    icon: 'wonder-refund.svg',
    payment: true,
    // Off (the default): a refund of a sale the terminal's journal does not know is refused unsent.
    fields: [
      ...amountFields(),
      { kind: 'checkbox', name: 'refundUnknownSales', icon: 'fa-question-circle', after: '<span data-i18n="wonder-refund.unknownSalesBox"></span>' },
      ...progress('wonder-refund').fields,
      rawCardField(),
    ],
    extraDefaults: progress('wonder-refund').extraDefaults,
    editor: { ...progress('wonder-refund').editor, oneditprepare: 'WonderEcrEditor.amountInputs' },
    inputs: [
      ['payload.orgReferenceID', 'string'],
      ['payload.amount', 'string'],
      ['payload.currency', 'string'],
      ['payload.referenceID', 'string', 'optional'],
    ],
  },
  { type: 'wonder-void', icon: 'wonder-void.svg', payment: true, fields: [receiptField('wonder-void'), rawCardField()], inputs: [['payload.orgReferenceID', 'string']] },
  { type: 'wonder-abort', icon: 'wonder-abort.svg', inputs: [['payload.referenceID', 'string', 'optional']] },
  { type: 'wonder-status', icon: 'wonder-status.svg', fields: [rawCardField()], inputs: [['payload.targetReferenceID', 'string']] },
];
