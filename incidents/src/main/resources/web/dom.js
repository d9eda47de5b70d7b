// Building the pages from API data. Every value goes in as a text node or an attribute value,
// never as markup, so a frame or host name cannot become HTML or script.

export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) {
      element.setAttribute(name, value);
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
  return element;
}

export function setText(id, value) {
  document.getElementById(id).textContent = value ?? '—';
}

/** Only web links: a javascript: or data: URL in an alert must not become a link. */
export function webUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch (notAUrl) {
    return null;
  }
}

/** 2021-12-29T12:53:30Z → "2021-12-29 12:53:30 UTC". */
export function utc(iso) {
  if (!iso) {
    return '—';
  }
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

export function duration(ms) {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 120) {
    return seconds + ' s';
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) {
    return minutes + ' min' + (seconds % 60 ? ' ' + (seconds % 60) + ' s' : '');
  }
  const hours = Math.floor(minutes / 60);
  return hours + ' h' + (minutes % 60 ? ' ' + (minutes % 60) + ' min' : '');
}

export function percent(fraction) {
  return (100 * fraction).toFixed(1) + '%';
}

const GROUPED = new Intl.NumberFormat('en');

export function grouped(number) {
  return GROUPED.format(number);
}

export function shortId(containerId) {
  return containerId.length > 12 ? containerId.slice(0, 12) : containerId;
}
