/**
 * The keys this repository's tests keep in `req.session`. One TypeScript program covers src, test
 * and examples (tsconfig.json), so `flagon/express`'s `SessionData` is augmented once for all of them:
 * here, and by examples/lesson/app.ts (`name`, `message`, `user`). Only declared keys compile, as in an
 * app; a test that stores another key declares it here (or uses `req.session.untyped()`).
 */
declare module "flagon/express" {
  interface SessionData {
    cart?: string[];
    downloaded?: boolean;
    n?: number;
    submitted?: boolean;
  }
}

export {};
