// terra_lab map widget (anywidget front end).
//
// Raster layers are Leaflet GridLayers whose tiles are rendered by the Python kernel and
// sent back over the widget comm as PNG buffers: no tile server, no extra port, no proxy,
// and Jupyter's own authentication - it works the same on a laptop, JupyterHub and Binder.
import * as L from "leaflet";

interface LayerSpec {
  id: string;
  name: string;
  opacity: number;
  time_index: number;
  n_times: number;
  legend: {
    colors: string[];
    vmin: number;
    vmax: number;
    label: string;
    // categorical products: one swatch per class (producer's colour and class name)
    classes?: { value: number; color: string; label: string }[];
  };
}

interface Model {
  get(name: string): any;
  set(name: string, value: any): void;
  save_changes(): void;
  on(event: string, cb: (...args: any[]) => void): void;
  off(event: string, cb?: (...args: any[]) => void): void;
  send(content: any, callbacks?: any, buffers?: ArrayBuffer[]): void;
}

type TileReply = { type: string; req: number; ok: boolean; error?: string };

class KernelTiles extends L.GridLayer {
  constructor(
    private model: Model,
    private spec: LayerSpec,
    private pending: Map<number, (reply: TileReply, buffers: DataView[]) => void>,
    private counter: { next: number },
    options: L.GridLayerOptions,
  ) {
    super(options);
  }

  createTile(coords: L.Coords, done: L.DoneCallback): HTMLElement {
    const img = document.createElement("img");
    img.alt = "";
    img.setAttribute("role", "presentation");
    img.className = "terra-tile";
    const req = this.counter.next++;
    this.pending.set(req, (reply, buffers) => {
      if (reply.ok && buffers.length > 0) {
        const view = buffers[0];
        const blob = new Blob([view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer], {
          type: "image/png",
        });
        const url = URL.createObjectURL(blob);
        img.onload = () => {
          URL.revokeObjectURL(url);
          img.dataset.loaded = "1";
          done(undefined, img);
        };
        img.src = url;
      } else {
        img.dataset.empty = "1";
        done(undefined, img);
      }
    });
    this.model.send({
      type: "tile",
      req,
      layer: this.spec.id,
      t: this.spec.time_index,
      z: coords.z,
      x: coords.x,
      y: coords.y,
    });
    return img;
  }
}

function legendControl(specs: LayerSpec[]): L.Control {
  const ctrl = new L.Control({ position: "bottomright" });
  ctrl.onAdd = () => {
    const div = L.DomUtil.create("div", "terra-legend");
    for (const s of specs) {
      const box = document.createElement("div");
      const title = document.createElement("div");
      title.textContent = s.legend.label || s.name; // textContent: never interpreted as HTML
      if (s.legend.classes && s.legend.classes.length) {
        box.appendChild(title);
        for (const c of s.legend.classes) {
          const row = document.createElement("div");
          row.className = "class";
          const swatch = document.createElement("span");
          swatch.className = "swatch";
          swatch.style.background = c.color;
          const name = document.createElement("span");
          name.textContent = `${c.value} ${c.label}`;
          row.append(swatch, name);
          box.appendChild(row);
        }
        div.appendChild(box);
        continue;
      }
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.style.background = `linear-gradient(to right, ${s.legend.colors.join(",")})`;
      const ticks = document.createElement("div");
      ticks.className = "ticks";
      for (const v of [s.legend.vmin, (s.legend.vmin + s.legend.vmax) / 2, s.legend.vmax]) {
        const t = document.createElement("span");
        t.textContent = Number(v).toPrecision(3);
        ticks.appendChild(t);
      }
      box.append(title, bar, ticks);
      div.appendChild(box);
    }
    return div;
  };
  return ctrl;
}

function render({ model, el }: { model: Model; el: HTMLElement }) {
  const container = document.createElement("div");
  container.className = "terra-map";
  container.style.height = model.get("height");
  el.appendChild(container);
  const status = document.createElement("div");
  status.className = "terra-status";
  el.appendChild(status);

  const map = L.map(container, { center: model.get("center"), zoom: model.get("zoom"), zoomControl: true });
  const pending = new Map<number, (reply: TileReply, buffers: DataView[]) => void>();
  const counter = { next: 1 };
  let basemap: L.TileLayer | null = null;
  let rasters: L.GridLayer[] = [];
  let legend: L.Control | null = null;
  let footprints: L.GeoJSON | null = null;
  let aoiLayer: L.GeoJSON | null = null;

  // split-map comparison: the last raster layer shows right of a draggable divider
  const divider = document.createElement("input");
  divider.type = "range";
  divider.min = "0";
  divider.max = "1";
  divider.step = "0.001";
  divider.className = "terra-split";
  divider.style.cssText = "position:absolute;left:0;right:0;bottom:8px;width:100%;z-index:1000;";
  L.DomEvent.disableClickPropagation(divider);
  const clipSplit = () => {
    const on = model.get("split") && rasters.length >= 2;
    divider.style.display = on ? "block" : "none";
    rasters.forEach((r) => {
      const c = r.getContainer();
      if (c) c.style.clip = "";
    });
    if (!on) return;
    divider.value = String(model.get("split_position"));
    const nw = map.containerPointToLayerPoint([0, 0]);
    const se = map.containerPointToLayerPoint(map.getSize());
    const x = map.containerPointToLayerPoint([map.getSize().x * Number(divider.value), 0]).x;
    const right = rasters[rasters.length - 1].getContainer();
    const left = rasters[rasters.length - 2].getContainer();
    if (right) right.style.clip = `rect(${nw.y}px, ${se.x}px, ${se.y}px, ${x}px)`;
    if (left) left.style.clip = `rect(${nw.y}px, ${x}px, ${se.y}px, ${nw.x}px)`;
  };
  divider.addEventListener("input", () => {
    model.set("split_position", Number(divider.value));
    model.save_changes();
    clipSplit();
  });
  container.appendChild(divider);
  map.on("move", clipSplit);

  model.on("msg:custom", (msg: TileReply, buffers: DataView[]) => {
    if (msg.type === "tile") {
      const cb = pending.get(msg.req);
      pending.delete(msg.req);
      if (cb) cb(msg, buffers);
      if (!msg.ok && msg.error) status.textContent = msg.error;
    }
  });

  const syncBasemap = () => {
    if (basemap) map.removeLayer(basemap);
    const url: string = model.get("basemap");
    basemap = url ? L.tileLayer(url, { attribution: model.get("basemap_attribution"), maxZoom: 19 }).addTo(map) : null;
  };

  const syncLayers = () => {
    for (const r of rasters) map.removeLayer(r);
    rasters = [];
    const specs: LayerSpec[] = model.get("layers");
    specs.forEach((spec, i) => {
      const layer = new KernelTiles(model, spec, pending, counter, {
        opacity: spec.opacity,
        zIndex: 10 + i,
        tileSize: 256,
        maxZoom: 22,
      });
      layer.addTo(map);
      rasters.push(layer);
    });
    if (legend) map.removeControl(legend);
    legend = specs.length ? legendControl(specs).addTo(map) : null;
    clipSplit();
  };

  const syncFootprints = () => {
    if (footprints) map.removeLayer(footprints);
    const fc = model.get("footprints");
    footprints = null;
    if (fc && fc.features && fc.features.length) {
      const selected: string = model.get("selected");
      footprints = L.geoJSON(fc, {
        style: (f) => ({
          color: f && f.id === selected ? "#d62728" : "#1f77b4",
          weight: f && f.id === selected ? 3 : 1,
          fillOpacity: 0.05,
        }),
        onEachFeature: (f, layer) => {
          layer.on("mouseover", () => model.send({ type: "hover", id: f.id }));
          layer.on("click", () => {
            model.set("selected", String(f.id));
            model.save_changes();
          });
        },
      }).addTo(map);
    }
  };

  const syncAoi = () => {
    if (aoiLayer) map.removeLayer(aoiLayer);
    const g = model.get("aoi");
    aoiLayer = g && g.type ? L.geoJSON(g, { style: { color: "#ff7f0e", weight: 2, fillOpacity: 0.1 } }).addTo(map) : null;
  };

  // draw an AOI: shift + drag a rectangle (Leaflet's box zoom is turned off for this)
  map.boxZoom.disable();
  let start: L.LatLng | null = null;
  let rubber: L.Rectangle | null = null;
  map.on("mousedown", (e: L.LeafletMouseEvent) => {
    if (!(e.originalEvent as MouseEvent).shiftKey) return;
    map.dragging.disable();
    start = e.latlng;
    rubber = L.rectangle(L.latLngBounds(start, start), { color: "#ff7f0e", weight: 1 }).addTo(map);
  });
  map.on("mousemove", (e: L.LeafletMouseEvent) => {
    if (start && rubber) rubber.setBounds(L.latLngBounds(start, e.latlng));
  });
  map.on("mouseup", (e: L.LeafletMouseEvent) => {
    if (!start) return;
    const b = L.latLngBounds(start, e.latlng);
    start = null;
    map.dragging.enable();
    if (rubber) map.removeLayer(rubber);
    rubber = null;
    model.set("aoi", {
      type: "Polygon",
      coordinates: [[
        [b.getWest(), b.getSouth()], [b.getEast(), b.getSouth()], [b.getEast(), b.getNorth()],
        [b.getWest(), b.getNorth()], [b.getWest(), b.getSouth()],
      ]],
    });
    model.save_changes();
  });

  map.on("click", (e: L.LeafletMouseEvent) => {
    if ((e.originalEvent as MouseEvent).shiftKey) return;
    model.set("clicked", [e.latlng.lat, e.latlng.lng]);
    model.save_changes();
  });
  map.on("moveend", () => {
    const c = map.getCenter();
    model.set("center", [c.lat, c.lng]);
    model.set("zoom", map.getZoom());
    const b = map.getBounds();
    model.set("bounds", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]);
    model.save_changes();
  });

  const onView = () => {
    const c = model.get("center");
    const z = model.get("zoom");
    const cur = map.getCenter();
    if (Math.abs(cur.lat - c[0]) > 1e-9 || Math.abs(cur.lng - c[1]) > 1e-9 || map.getZoom() !== z) map.setView(c, z);
  };

  syncBasemap();
  syncLayers();
  syncFootprints();
  syncAoi();
  model.on("change:basemap", syncBasemap);
  model.on("change:layers", syncLayers);
  model.on("change:footprints", syncFootprints);
  model.on("change:selected", syncFootprints);
  model.on("change:aoi", syncAoi);
  model.on("change:center", onView);
  model.on("change:zoom", onView);
  model.on("change:split", clipSplit);
  model.on("change:split_position", clipSplit);
  setTimeout(() => map.invalidateSize(), 100);
  return () => {
    map.remove();
  };
}

export default { render };
