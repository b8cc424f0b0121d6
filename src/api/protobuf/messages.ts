// The protobuf field table of every message of the Kubernetes 1.33 API kubemu serves: interface data that lets
// decodeProtobufBody turn `application/vnd.kubernetes.protobuf` bodies into the JSON objects the rest of the
// apiserver already understands. The table itself is generated (generated/messages.ts, by scripts/gen-protobuf.mjs
// from upstream's generated.proto files and Go struct tags under api/upstream/); this module defines its shape.
//
// Shape: MESSAGES[<message>][<field number>] = [jsonName, type, flags?]
//   - <message> is the proto package shortened (`k8s.io.api.core.v1.PodSpec` → `core.v1.PodSpec`,
//     `k8s.io.apimachinery.pkg.apis.meta.v1.Time` → `meta.v1.Time`, `…pkg.util.intstr.IntOrString` → `intstr.IntOrString`).
//   - type is a proto scalar (`string`, `bool`, `int32`, `int64`, `bytes`, `double`, …) or a message name; for a map
//     field (flag M) it is the value type (keys are always strings upstream).
//   - jsonName is the Go struct's json tag; '' with flag I means the message is inlined into its parent in JSON
//     (upstream's `json:",inline"`, e.g. Probe.handler, Volume.volumeSource, EphemeralContainer's common fields).
//   - flag K ("keep zero"): the Go field is a pointer or has no `omitempty`, so a zero value present on the wire is
//     rendered (`replicas: 0`); without K a zero scalar is dropped as upstream's JSON rendering would.
// Well-known messages (Time, MicroTime, Duration, Quantity, IntOrString, FieldsV1, RawExtension) are decoded by code;
// LIST_MESSAGES wrap a Go named slice (`ExtraValue []string`) and render as the list of their items.

/** repeated field */
export const R = 1;
/** map<string, type> field */
export const M = 2;
/** message inlined into its parent's JSON object */
export const I = 4;
/** render a zero value that is present on the wire (pointer or non-omitempty Go field) */
export const K = 8;

export type FieldSpec = readonly [json: string, type: string, flags?: number];
export type MessageSpec = Readonly<Record<number, FieldSpec>>;

export { KIND_MESSAGES, LIST_MESSAGES, MESSAGES } from './generated/messages.js';

export const DELETE_OPTIONS_MESSAGE = 'meta.v1.DeleteOptions';
