// Which images a tenant's FROM / COPY --from may name. The build runs as root podman on the host, whose local
// storage holds every team's built images (localhost/tsl-*), the platform's base images and whatever else the
// operator keeps: a tenant may only name images from a registry, the configured base image(s), or earlier stages.
//
// The rule for names (podman resolves SHORT names, e.g. `tsl-abc:3` or `myimage`, against LOCAL storage first, and
// bare hex strings as local image IDs or ID prefixes):
// - `scratch` and earlier stage names/indexes are fine;
// - a name under `localhost/` (or `localhost:<port>/`) is refused unless it is a configured base image
//   (TUSSILAGO_PYTHON_IMAGE, `{version}` standing for any Python version);
// - any name with a path component starting with `tsl-` (the platform's local naming) is refused, with or without
//   a registry, so no short name can reach a tenant image;
// - image IDs and digests without a repository (`sha256:…`, bare hex such as a 12- or 64-character ID) are refused;
// - registries given as IP literals are refused: podman pulls from the host's network namespace, so
//   `FROM 127.0.0.1:5000/x` would make the host talk to its own loopback;
// - a name must be a valid reference after resolving `$X` / `${X}` from the ARG defaults before the first FROM
//   (the platform passes no --build-arg); anything else with `$` does not resolve and is refused.
// Other short names (`python:3.12-slim`) stay allowed: the only local images they can reach are ones some build
// pulled from a registry or the base images. Operators must not keep other private images in the build host's
// storage (documented for the security doc).

const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN =
  "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?";
const IMAGE_REF = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@sha256:[0-9a-f]{64})?$`,
);
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const VARIABLE = /\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})/g;

/** `$X` and `${X}` from known values; null when anything is left that cannot be resolved (modifiers, unknowns). */
export function resolveVariables(
  value: string,
  known: ReadonlyMap<string, string | null>,
  escapeChar: string,
): string | null {
  if (value.includes(escapeChar)) return null;
  let unresolved = false;
  const resolved = value.replace(VARIABLE, (_whole, bare: string | undefined, braced: string | undefined) => {
    const found = known.get(bare ?? braced ?? "");
    if (found === undefined || found === null) unresolved = true;
    return found ?? "";
  });
  if (unresolved || resolved.includes("$")) return null;
  return resolved;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Does a reference name one of the configured base images (`{version}` = any Python version)? */
export function isBaseImage(reference: string, templates: readonly string[]): boolean {
  return templates.some((template) => {
    const pattern = escapeRegExp(template).replaceAll("\\{version\\}", "3\\.\\d{1,2}");
    return new RegExp(`^${pattern}$`).test(reference);
  });
}

export type ImageVerdict = { ok: true; external: boolean } | { ok: false; reason: string };

/** The verdict on an image reference that is not an earlier stage (variables already resolved). */
export function checkImageReference(reference: string, baseImages: readonly string[]): ImageVerdict {
  if (reference.toLowerCase() === "scratch") return { ok: true, external: false };
  if (/^sha256:/i.test(reference) || /^[0-9a-f]{1,64}$/i.test(reference)) {
    return { ok: false, reason: "image IDs and digests name images on this host: use a registry image" };
  }
  const match = IMAGE_REF.exec(reference);
  if (match === null) return { ok: false, reason: "this is not a valid image reference" };
  const domain = match[1];
  const path = match[2] ?? "";
  const isDomain = domain !== undefined && (domain.includes(".") || domain.includes(":") || domain === "localhost");
  const registry = isDomain ? domain.toLowerCase() : null;
  const repository = isDomain ? path : domain === undefined ? path : `${domain}/${path}`;
  if (isBaseImage(reference, baseImages)) return { ok: true, external: !registry?.startsWith("localhost") };
  if (repository.split("/").some((component) => component.startsWith("tsl-"))) {
    return { ok: false, reason: "images built on this platform cannot be used as a base: use a registry image" };
  }
  if (registry !== null) {
    const host = registry.replace(/:\d+$/, "");
    if (host === "localhost" || host.endsWith(".localhost")) {
      return { ok: false, reason: "local images cannot be used as a base: use a registry image" };
    }
    if (IPV4.test(host)) return { ok: false, reason: "registries must be named by their host name, not an address" };
  }
  return { ok: true, external: true };
}
