// terra_lab's map layers for ipyleaflet: jupyter-leaflet views whose Leaflet layers get their tiles
// from the Python kernel over the widget comm (no tile server, no port: Jupyter's own websocket and
// authentication, the same on a laptop, JupyterHub and Binder).
//
// KernelTileLayerView: a GridLayer asking {type: "tile", req, z, x, y, t} for each tile; the kernel
// answers {type: "tile", req, ok, error?} with the PNG as the one buffer; a recipe layer may first send a
// coarse preview of the tile ({..., final: false}, same req), drawn at once and replaced by the final reply.  Every <img> is
// `img.terra-tile`, with data-loaded="1" once its PNG is drawn (data-empty / data-error otherwise).
// BasemapLayerView: an online TileLayer that leaves the map at once unless it is the active basemap,
// so only the shown basemap loads tiles while all of them are listed in the layer control.
import {
  LeafletRasterLayerModel,
  LeafletRasterLayerView,
  LeafletTileLayerModel,
  LeafletTileLayerView,
} from "jupyter-leaflet";
import L from "leaflet";

import { MODULE_NAME, MODULE_VERSION } from "./version";

type TileReply = { type: string; req: number; ok: boolean; error?: string; final?: boolean };
type Pending = Map<number, (reply: TileReply, buffers: DataView[]) => void>;

const MODULE = {
  _view_module: MODULE_NAME,
  _model_module: MODULE_NAME,
  _view_module_version: MODULE_VERSION,
  _model_module_version: MODULE_VERSION,
};

export class KernelTileLayerModel extends LeafletRasterLayerModel {
  defaults() {
    return {
      ...super.defaults(),
      ...MODULE,
      _view_name: "KernelTileLayerView",
      _model_name: "KernelTileLayerModel",
      time_index: 0,
      n_times: 1,
      legend: {},
      max_zoom: 22,
      error: "",
    };
  }
}

class KernelTiles extends L.GridLayer {
  constructor(
    private view: KernelTileLayerView,
    options: L.GridLayerOptions,
  ) {
    super(options);
  }

  createTile(coords: L.Coords, done: L.DoneCallback): HTMLElement {
    const img = document.createElement("img");
    img.alt = "";
    img.setAttribute("role", "presentation");
    img.className = "terra-tile";
    let shown = false; // a preview was drawn: Leaflet was told once, the final PNG only replaces it
    this.view.request(coords, (reply, buffers) => {
      const preview = reply.final === false;
      if (preview) img.dataset.preview = "1"; // a coarse tile came first (dropped if the final one is quicker)
      if (reply.ok && buffers.length > 0) {
        const view = buffers[0];
        const bytes = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
        const url = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
        img.onload = () => {
          URL.revokeObjectURL(url);
          if (!preview) {
            delete img.dataset.preview;
            img.dataset.loaded = "1";
          }
          if (!shown) done(undefined, img);
          shown = true;
        };
        img.src = url;
      } else if (shown) {
        if (reply.error) img.dataset.error = reply.error; // the preview stays; the error is recorded
      } else {
        img.dataset.empty = "1";
        img.style.display = "none"; // nothing to draw (Chromium would outline an image without source)
        if (reply.error) img.dataset.error = reply.error; // a data attribute: never parsed as HTML
        done(undefined, img);
      }
    });
    return img;
  }
}

export class KernelTileLayerView extends LeafletRasterLayerView {
  declare obj: KernelTiles;
  private pending: Pending = new Map();
  // requests of several views of one model share its comm: each view numbers its own from a random base
  private next = Math.floor(Math.random() * 1e9) * 1000;

  create_obj() {
    this.obj = new KernelTiles(this, {
      tileSize: 256,
      maxZoom: this.model.get("max_zoom"),
      zIndex: this.zIndex(),
      className: "terra-kernel-layer",
      updateWhenZooming: false,
      keepBuffer: 4,
    });
    this.listenTo(this.model, "msg:custom", (msg: TileReply, buffers: DataView[]) => {
      if (!msg || msg.type !== "tile") return;
      const cb = this.pending.get(msg.req);
      if (!cb) return; // another view's tile
      if (msg.final !== false) this.pending.delete(msg.req); // a preview: the final reply follows
      cb(msg, buffers || []);
    });
  }

  // stacking follows the map's `layers` list (views are created asynchronously, so the order in which
  // Leaflet receives them is not that list's); base layers stay below every overlay
  private zIndex(): number {
    if (this.model.get("base")) return 0;
    const layers: unknown[] = this.map_view?.model?.get("layers") || [];
    return 1 + Math.max(0, layers.indexOf(this.model));
  }

  request(coords: L.Coords, cb: (reply: TileReply, buffers: DataView[]) => void) {
    const req = this.next++;
    this.pending.set(req, cb);
    this.model.send(
      { type: "tile", req, z: coords.z, x: coords.x, y: coords.y, t: this.model.get("time_index") },
      {},
    );
  }

  model_events() {
    super.model_events();
    this.listenTo(this.model, "change:time_index", () => this.obj.redraw());
    if (this.map_view?.model) {
      this.listenTo(this.map_view.model, "change:layers", () => this.obj.setZIndex(this.zIndex()));
    }
  }
}

export class BasemapLayerModel extends LeafletTileLayerModel {
  defaults() {
    return {
      ...super.defaults(),
      ...MODULE,
      _view_name: "BasemapLayerView",
      _model_name: "BasemapLayerModel",
      active: true,
    };
  }
}

export class BasemapLayerView extends LeafletTileLayerView {
  create_obj() {
    super.create_obj();
    this.obj.setZIndex(0);
    let first = true;
    this.obj.on("add", () => {
      if (first && !this.model.get("active")) {
        // listed in the layer control, but not shown: off the map before its tiles load
        setTimeout(() => this.obj.remove(), 0);
      }
      first = false;
    });
  }

  leaflet_events() {
    super.leaflet_events();
    this.map_view.obj.on("baselayerchange", (e: L.LayersControlEvent) => {
      const active = e.layer === this.obj;
      if (active !== this.model.get("active")) {
        this.model.set("active", active);
        this.model.save_changes();
      }
    });
  }
}
