/**
 * Asset selection: Dagster's selection syntax parsed into plain data (`SelectionNode`), printed back with
 * `selectionToString`, and evaluated against an `AssetGraph` later.
 */
export {
  SelectionAttributes,
  selectionToString,
  type AllSelection,
  type AttrSelection,
  type BinarySelection,
  type FunctionSelection,
  type KeySelection,
  type NotSelection,
  type SelectionAttribute,
  type SelectionNode,
  type TraversalDepth,
  type TraverseSelection,
} from './ast';
export { evaluateSelection, selectAssets } from './evaluate';
export { parseSelection } from './parse';
export { isBareWord, quote, tokenize, type Token, type TokenKind } from './tokenize';
