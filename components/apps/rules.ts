// Rules repeated next to the inputs they constrain. The domain (lib/domain/app-rules.ts) enforces them; these only
// explain them before the user hits an error.
export const APP_NAME_RULES =
  "Part of the app's address, so it must be a DNS label: up to 39 lower-case letters, digits and single hyphens, " +
  "starting with a letter and not ending with a hyphen. Some names (www, api, admin…) are reserved.";

export const ENV_KEY_RULES =
  "Upper-case letters, digits and underscores, not starting with a digit. PORT, DATABASE_URL, REDIS_* and " +
  "TUSSILAGO_* are set by the platform.";
