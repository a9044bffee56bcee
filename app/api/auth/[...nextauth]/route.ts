// next-auth's own endpoints (sign-in callbacks, CSRF, session). Not part of the REST API, so not in OpenAPI.
import { handlers } from "@/lib/auth/next-auth";

export const { GET, POST } = handlers;
