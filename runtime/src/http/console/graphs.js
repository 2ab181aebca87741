// Graphs drawn in SVG, left to right: a node's column is one past the furthest node
// leading to it (edges that loop back are drawn under the nodes). Used for an execution's
// tasks coloured by status and for a flow definition's outline (nested blocks below).
"use strict";

import { el, svg } from "./core.js";

const W = 160, H = 44, DX = 250, DY = 74;

function arrow() {
  return svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a93a3" })));
}

/// Places nodes `{id, to: [ids]}` on columns by longest path from the start.
function layout(nodes) {
  const ids = new Set(nodes.map((n) => n.id));
  const column = new Map();
  const depth = (n, seen) => {
    if (column.has(n.id)) return column.get(n.id);
    if (seen.has(n.id)) return -1;
    seen.add(n.id);
    const before = nodes.filter((p) => p.to.includes(n.id) && p.id !== n.id);
    const d = Math.max(0, ...before.map((p) => depth(p, seen) + 1));
    seen.delete(n.id);
    column.set(n.id, d);
    return d;
  };
  nodes.forEach((n) => depth(n, new Set()));
  const rows = new Map(), place = new Map();
  for (const n of nodes) {
    const c = column.get(n.id) || 0;
    const r = rows.get(c) || 0;
    rows.set(c, r + 1);
    place.set(n.id, { x: 20 + c * DX, y: 24 + r * DY });
  }
  const width = 40 + DX * Math.max(1, ...[...rows.keys()].map((c) => c + 1));
  const height = 40 + DY * Math.max(1, ...rows.values());
  return { place, width, height, ids };
}

function edge(from, to, kind, label) {
  const group = svg("g", { class: "edge " + kind });
  let d, mx, my;
  if (to.x > from.x) {
    d = `M ${from.x + W} ${from.y + H / 2} L ${to.x} ${to.y + H / 2}`;
    mx = (from.x + W + to.x) / 2; my = (from.y + to.y + H) / 2 - 4;
  } else {
    const low = Math.max(from.y, to.y) + H + 14;
    d = `M ${from.x + W / 2} ${from.y + H} C ${from.x + W / 2} ${low}, ${to.x + W / 2} ${low}, ${to.x + W / 2} ${to.y + H}`;
    mx = (from.x + to.x + W) / 2; my = low;
  }
  group.append(svg("path", { d, fill: "none", "marker-end": "url(#arrow)" }));
  if (label) {
    group.append(svg("text", { x: mx, y: my, "text-anchor": "middle", class: "edge-label" }, label.length > 16 ? label.slice(0, 15) + "…" : label));
    group.append(svg("title", {}, kind + ": " + label));
  }
  return group;
}

function box(at, title, subtitle) {
  const parts = [svg("rect", { x: at.x, y: at.y, width: W, height: H, rx: 6 }),
    svg("text", { x: at.x + W / 2, y: at.y + (subtitle ? 18 : 26), "text-anchor": "middle" }, title.length > 22 ? title.slice(0, 21) + "…" : title)];
  if (subtitle) parts.push(svg("text", { x: at.x + W / 2, y: at.y + 34, "text-anchor": "middle", class: "sub" }, subtitle.length > 26 ? subtitle.slice(0, 25) + "…" : subtitle));
  return parts;
}

/// An execution's top-level tasks, each coloured by its status; a node links to its task.
export function executionGraph(tasks, hrefOf) {
  const top = tasks.filter((t) => t.key === t.name);
  const { place, width, height, ids } = layout(top.map((t) => ({ id: t.name, to: t.next || [] })));
  const picture = svg("svg", { id: "graph", width, height, role: "img", "aria-label": "the execution's tasks as a graph" }, arrow());
  for (const t of top) for (const n of t.next || []) if (ids.has(n)) picture.append(edge(place.get(t.name), place.get(n), "next", ""));
  for (const t of top) {
    const a = svg("a", { href: hrefOf(t.key) }, ...box(place.get(t.name), t.name, t.status), svg("title", {}, t.name + ": " + t.status));
    picture.append(svg("g", { class: "node " + t.status, "data-task": t.key, "data-status": t.status }, a));
  }
  return picture;
}

/// A definition's block as a graph, its nested blocks (Map bodies, Parallel branches,
/// choice blocks) drawn below it, each titled by what holds it.
export function outlineGraph(block, title = "") {
  const { place, width, height, ids } = layout(block.nodes.map((n) => ({ id: n.name, to: n.edges.map((e) => e.to) })));
  const picture = svg("svg", { class: "outline", width, height, role: "img", "aria-label": (title || "the flow") + " as a graph" }, arrow());
  for (const n of block.nodes) for (const e of n.edges) if (ids.has(e.to)) picture.append(edge(place.get(n.name), place.get(e.to), e.kind, e.kind === "next" ? "" : e.label));
  for (const n of block.nodes) {
    const start = block.start.includes(n.name) ? " start" : "";
    picture.append(svg("g", { class: "node kind-" + n.kind + start, "data-node": n.name, "data-kind": n.kind },
      ...box(place.get(n.name), n.name, n.detail ? n.kind + " · " + n.detail : n.kind), svg("title", {}, n.name + " (" + n.kind + ")" + (n.detail ? ": " + n.detail : ""))));
  }
  const nested = block.nodes.flatMap((n) => n.blocks.map((b) => outlineGraph(b, n.name + ": " + b.label)));
  return el("figure", { class: "block", "data-block": title || "flow" }, title ? el("figcaption", {}, title) : "", picture, ...nested);
}
