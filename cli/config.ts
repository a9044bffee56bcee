// Where `tussilago login` keeps the platform URL and the API token: config.json in the user's config directory
// (env-paths: ~/.config/tussilago on Linux, ~/Library/Preferences/tussilago on macOS, %APPDATA%\tussilago\Config on
// Windows), mode 0600 in a 0700 directory because the token is a credential. TUSSILAGO_URL and TUSSILAGO_TOKEN
// override the file (CI), TUSSILAGO_CONFIG_DIR moves it (tests, several platforms).
import fs from "node:fs/promises";
import path from "node:path";
import envPaths from "env-paths";
import { z } from "zod";
import { CliError, EXIT } from "./errors";
import type { Env } from "./io";

const storedConfig = z.object({
  url: z.string(),
  token: z.string(),
  team: z.object({ id: z.string(), name: z.string() }).optional(),
});
export type StoredConfig = z.infer<typeof storedConfig>;

export type Credentials = { url: string; token: string; source: "environment" | "config file" };

export function configDir(env: Env): string {
  return env.TUSSILAGO_CONFIG_DIR || envPaths("tussilago", { suffix: "" }).config;
}

export function configFile(env: Env): string {
  return path.join(configDir(env), "config.json");
}

export async function readConfig(env: Env): Promise<StoredConfig | null> {
  let text: string;
  try {
    text = await fs.readFile(configFile(env), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const parsed = storedConfig.safeParse(safeJson(text));
  if (!parsed.success) {
    throw new CliError("bad_config", `${configFile(env)} is not a config this CLI wrote; run tussilago login again.`);
  }
  return parsed.data;
}

/** Writes the file atomically (a temporary file renamed over it), created 0600 so the token is never readable. */
export async function writeConfig(env: Env, config: StoredConfig): Promise<string> {
  const file = configFile(env);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFile is masked by the umask and ignored for an existing file: set it explicitly.
  await fs.chmod(temporary, 0o600);
  await fs.rename(temporary, file);
  return file;
}

export async function removeConfig(env: Env): Promise<boolean> {
  try {
    await fs.rm(configFile(env));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/** The URL and token to use: the environment first, then the config file; none is a CliError (exit code 3). */
export async function resolveCredentials(env: Env): Promise<Credentials> {
  const stored = env.TUSSILAGO_URL && env.TUSSILAGO_TOKEN ? null : await readConfig(env);
  const url = env.TUSSILAGO_URL || stored?.url;
  const token = env.TUSSILAGO_TOKEN || stored?.token;
  if (!url || !token) {
    throw new CliError(
      "not_logged_in",
      "Not logged in: run `tussilago login`, or set TUSSILAGO_URL and TUSSILAGO_TOKEN.",
      EXIT.auth,
    );
  }
  const source = env.TUSSILAGO_URL && env.TUSSILAGO_TOKEN ? "environment" : "config file";
  return { url: normalizeUrl(url), token, source };
}

export function normalizeUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new CliError(
      "invalid",
      `${JSON.stringify(input)} is not a URL (e.g. https://tussilago.example.org).`,
      EXIT.usage,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new CliError("invalid", "The platform URL must start with https:// (or http://).", EXIT.usage);
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
