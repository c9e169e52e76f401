// Launcher icons of the THEIA workshops: one per theme, drawn here as inline SVG (24 x 24), no assets.
// A dashboard card shows its theme's picture, smaller, with a bar-chart badge in the corner.
import { LabIcon } from "@jupyterlab/ui-components";

export type Theme =
  | "quickstart"
  | "search"
  | "snow"
  | "water"
  | "forest"
  | "biodiversity"
  | "landcover"
  | "niche";

// the shapes of each picture, in a 24 x 24 box
const SHAPES: Record<Theme, string> = {
  // a play button: start here
  quickstart:
    '<circle cx="12" cy="12" r="10" fill="#ef6c00"/><path d="M9.5 7.2v9.6l7.6-4.8z" fill="#fff"/>',
  // a folded map under a magnifying glass
  search:
    '<path d="M2 6.5 7.5 4.5l6 2 5.5-2v13l-5.5 2-6-2L2 19.5z" fill="#dcedc8" stroke="#558b2f" stroke-width="1.2" stroke-linejoin="round"/>' +
    '<path d="M7.5 4.5v13M13.5 6.5v13" stroke="#558b2f" stroke-width="1"/>' +
    '<circle cx="14.5" cy="12" r="4.2" fill="#fff" fill-opacity=".75" stroke="#37474f" stroke-width="2"/>' +
    '<path d="m17.6 15.1 4.2 4.2" stroke="#37474f" stroke-width="2.6" stroke-linecap="round"/>',
  // a snowflake
  snow:
    '<path d="M12 12V2.5M12 6.2 9.9 3.7M12 6.2l2.1-2.5M12 12 3.8 7.3M7 9.1l-3.2.6M7 9.1 5.9 6.1M12 12l-8.2 4.8' +
    "M7 14.9l-1.1 3M7 14.9l-3.2-.6M12 12v9.5M12 17.8l2.1 2.5M12 17.8l-2.1 2.5M12 12l8.2 4.8M17 14.9l3.2-.6" +
    'M17 14.9l1.1 3M12 12l8.2-4.8M17 9.1l1.1-3M17 9.1l3.2.6" fill="none" stroke="#1e88e5" stroke-width="1.7" stroke-linecap="round"/>',
  // a water drop over a wave
  water:
    '<path d="M12 2.2C9 6.6 5.8 9.9 5.8 13.4a6.2 6.2 0 0 0 12.4 0C18.2 9.9 15 6.6 12 2.2z" fill="#0288d1"/>' +
    '<path d="M9 13.6a3 3 0 0 0 2.6 3" fill="none" stroke="#e1f5fe" stroke-width="1.4" stroke-linecap="round"/>' +
    '<path d="M2 21.2c1.7-1.3 3.3-1.3 5 0s3.3 1.3 5 0 3.3-1.3 5 0 3.3 1.3 5 0" fill="none" stroke="#4fc3f7" stroke-width="1.6" stroke-linecap="round"/>',
  // a conifer
  forest:
    '<path d="M12 1.8 6.2 9.4h3.1L4.8 15.6h5.6v.1h3.2v-.1h5.6l-4.5-6.2h3.1z" fill="#2e7d32"/>' +
    '<rect x="10.7" y="15.6" width="2.6" height="6.2" rx=".6" fill="#6d4c41"/>',
  // a butterfly
  biodiversity:
    '<path d="M11.3 11C9.8 6.3 6.6 3.6 3.6 4.1 1.5 4.5 1.8 8.2 3.8 10.3 5.5 12 8.6 12.2 11.3 11z" fill="#8e24aa"/>' +
    '<path d="M12.7 11c1.5-4.7 4.7-7.4 7.7-6.9 2.1.4 1.8 4.1-.2 6.2-1.7 1.7-4.8 1.9-7.5.7z" fill="#8e24aa"/>' +
    '<path d="M11.2 12.4c-2.7-.3-5.3.7-5.9 3-.5 2.1 1.3 3.6 3.1 2.8 1.7-.8 2.7-3.3 2.8-5.8z" fill="#ba68c8"/>' +
    '<path d="M12.8 12.4c2.7-.3 5.3.7 5.9 3 .5 2.1-1.3 3.6-3.1 2.8-1.7-.8-2.7-3.3-2.8-5.8z" fill="#ba68c8"/>' +
    '<rect x="11.3" y="7.2" width="1.4" height="12" rx=".7" fill="#4a148c"/>' +
    '<path d="M11.7 7.6 10 4.4M12.3 7.6 14 4.4" stroke="#4a148c" stroke-width=".9" stroke-linecap="round"/>',
  // a patchwork of land-cover classes (crops, forest, water, town, grassland)
  landcover:
    '<rect x="2" y="2" width="9" height="8" rx="1" fill="#fdd835"/>' +
    '<rect x="12.5" y="2" width="9.5" height="12" rx="1" fill="#43a047"/>' +
    '<rect x="2" y="11.5" width="5" height="10.5" rx="1" fill="#1e88e5"/>' +
    '<rect x="8.5" y="11.5" width="2.5" height="10.5" rx="1" fill="#e53935"/>' +
    '<rect x="12.5" y="15.5" width="9.5" height="6.5" rx="1" fill="#9ccc65"/>',
  // a species' suitability map: nested contours around a location pin
  niche:
    '<ellipse cx="12" cy="14" rx="10" ry="7.5" fill="#fff3e0" stroke="#fb8c00" stroke-width="1.2"/>' +
    '<ellipse cx="12.5" cy="14.5" rx="6.5" ry="4.8" fill="#ffcc80" stroke="#f57c00" stroke-width="1.2"/>' +
    '<ellipse cx="13" cy="15" rx="3.2" ry="2.3" fill="#ef6c00"/>' +
    '<path d="M12 1.8a3.9 3.9 0 0 0-3.9 3.9c0 2.9 3.9 7.3 3.9 7.3s3.9-4.4 3.9-7.3A3.9 3.9 0 0 0 12 1.8z" fill="#c62828"/>' +
    '<circle cx="12" cy="5.7" r="1.4" fill="#fff"/>',
};

// a small dashboard (three bars on a card) in the lower right corner
const BADGE =
  '<rect x="12.6" y="12.6" width="10.6" height="10.6" rx="1.8" fill="#fff" stroke="#37474f" stroke-width="1.2"/>' +
  '<path d="M15.4 20.6v-2.6M17.9 20.6v-5.2M20.4 20.6v-3.6" stroke="#37474f" stroke-width="1.6" stroke-linecap="round"/>';

function svg(body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24">${body}</svg>`;
}

const cache = new Map<string, LabIcon>();

function make(name: string, svgstr: string): LabIcon {
  let icon = cache.get(name);
  if (!icon) {
    icon = new LabIcon({ name: `terra-lab:${name}`, svgstr });
    cache.set(name, icon);
  }
  return icon;
}

/** The icon of a theme's notebook card. */
export function notebookIcon(theme: Theme): LabIcon {
  return make(theme, svg(SHAPES[theme]));
}

/** The icon of a theme's dashboard card: the theme's picture, smaller, with a dashboard badge. */
export function dashboardIcon(theme: Theme): LabIcon {
  return make(`${theme}-dashboard`, svg(`<g transform="scale(.78)">${SHAPES[theme]}</g>${BADGE}`));
}
