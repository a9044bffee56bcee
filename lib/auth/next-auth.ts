// next-auth's runtime over the portal's configuration (lib/auth/auth-config.ts, kept apart so tests can load the
// configuration without next-auth's Next.js bindings).
import NextAuth from "next-auth";
import { authConfig } from "@/lib/auth/auth-config";

export const { handlers, auth, signIn, signOut } = NextAuth((request) => authConfig(request?.headers));
