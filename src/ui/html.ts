import htm from 'htm';
import { h, type VNode } from 'preact';

/** Tagged templates that build Preact elements (htm): JSX-like markup without a compile step. */
export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
