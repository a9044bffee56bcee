import "next-auth";
import "next-auth/jwt";

declare module "next-auth" {
  interface Session {
    user: { id: string; email: string; name?: string | null };
    /** The server-side session row (UserSession) behind this browser's cookie. */
    sessionId?: string;
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    uid?: string;
    sv?: number;
    /** The UserSession id: revoking that row ends this JWT. */
    sid?: string;
  }
}
