// An interactive flame graph of folded stacks ("comm;root;...;leaf" with a weight), drawn as SVG
// in the page: root at the bottom, each frame as wide as its share of the weight, children of a
// frame merged by name and laid out in name order. Click a frame to zoom in on it; the frames
// below it stay as the way back out. Names go in as text nodes only.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 1200;
const FRAME_HEIGHT = 18;
const SIDE = 10;
const TOP = 4;
const BOTTOM = 4;
// 12px monospace glyphs are 0.6 em wide: a label is cut to what fits its frame
const CHAR_WIDTH = 7.2;
// narrower frames could be neither seen nor clicked
const MIN_WIDTH = 0.5;

function frameNode(name, parent) {
  return {name, weight: 0, children: new Map(), parent};
}

export function flameTree(stacks) {
  const root = frameNode('all', null);
  for (const stack of stacks) {
    if (!(stack.weight > 0) || !stack.folded) {
      continue;
    }
    root.weight += stack.weight;
    let frame = root;
    for (const name of stack.folded.split(';')) {
      let child = frame.children.get(name);
      if (!child) {
        child = frameNode(name, frame);
        frame.children.set(name, child);
      }
      child.weight += stack.weight;
      frame = child;
    }
  }
  return root;
}

function depth(node) {
  let deepest = 0;
  for (const child of node.children.values()) {
    deepest = Math.max(deepest, depth(child));
  }
  return deepest + 1;
}

/** The frames below a node, root first. */
function below(node) {
  const list = [];
  for (let parent = node.parent; parent; parent = parent.parent) {
    list.unshift(parent);
  }
  return list;
}

function byName(a, b) {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A warm colour from the name (FNV-1a): the same frame has the same colour in every graph. */
function colour(name) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const hue = hash % 50;
  const saturation = 70 + (hash >>> 8) % 25;
  const lightness = 52 + (hash >>> 16) % 14;
  return `hsl(${hue}, ${saturation}%, ${lightness}%)`;
}

function fit(name, width) {
  const chars = Math.floor((width - 6) / CHAR_WIDTH);
  if (chars < 3) {
    return '';
  }
  return name.length <= chars ? name : name.slice(0, chars - 2) + '..';
}

function svgElement(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  return element;
}

export class FlameGraph {
  /**
   * svg: the <svg> to draw in; details: the element that shows the frame under the pointer;
   * describe(node, root): the text for a frame.
   */
  constructor(svg, details, stacks, describe) {
    this.svg = svg;
    this.details = details;
    this.describe = describe;
    this.root = flameTree(stacks);
    this.zoomed = this.root;
    this.draw();
  }

  zoom(node) {
    this.zoomed = node;
    this.draw();
  }

  reset() {
    this.zoom(this.root);
  }

  draw() {
    const base = below(this.zoomed);
    const levels = base.length + depth(this.zoomed);
    const height = TOP + levels * FRAME_HEIGHT + BOTTOM;
    this.svg.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);
    this.svg.replaceChildren();
    if (this.root.weight === 0) {
      const empty = svgElement('text', {x: WIDTH / 2, y: TOP + 14, 'text-anchor': 'middle'});
      empty.textContent = 'no stacks in the evidence';
      this.svg.append(empty);
      return;
    }
    base.forEach((node, level) => this.frame(node, level, SIDE, WIDTH - 2 * SIDE, height, 'frame below'));
    this.subtree(this.zoomed, base.length, SIDE, (WIDTH - 2 * SIDE) / this.zoomed.weight, height);
    this.details.textContent = this.describe(this.zoomed, this.root);
  }

  subtree(node, level, x, scale, height) {
    const width = node.weight * scale;
    if (width < MIN_WIDTH) {
      return;
    }
    const zoomedIn = node === this.zoomed && node !== this.root;
    this.frame(node, level, x, width, height, zoomedIn ? 'frame zoomed' : 'frame');
    let childX = x;
    for (const child of [...node.children.values()].sort(byName)) {
      this.subtree(child, level + 1, childX, scale, height);
      childX += child.weight * scale;
    }
  }

  frame(node, level, x, width, height, className) {
    const y = height - BOTTOM - (level + 1) * FRAME_HEIGHT;
    const group = svgElement('g', {class: className, tabindex: 0, role: 'button'});
    const title = svgElement('title', {});
    title.textContent = this.describe(node, this.root);
    group.append(title);
    group.append(svgElement('rect', {
      x: x.toFixed(2), y, width: width.toFixed(2), height: FRAME_HEIGHT - 1, rx: 2,
      fill: node === this.root ? 'rgb(200, 200, 200)' : colour(node.name),
    }));
    const label = fit(node.name, width);
    if (label) {
      const text = svgElement('text', {x: (x + 3).toFixed(2), y: y + FRAME_HEIGHT - 5});
      text.textContent = label;
      group.append(text);
    }
    // clicking the zoomed frame steps out by one; any other frame zooms to it
    const target = node === this.zoomed ? (node.parent ?? node) : node;
    group.addEventListener('click', () => this.zoom(target));
    group.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this.zoom(target);
      }
    });
    const show = () => {
      this.details.textContent = this.describe(node, this.root);
    };
    group.addEventListener('mouseenter', show);
    group.addEventListener('focus', show);
    this.svg.append(group);
  }
}
