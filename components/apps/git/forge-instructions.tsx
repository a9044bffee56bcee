// Where to paste the webhook in each forge, with the exact settings each one needs to sign its deliveries the way
// the platform verifies them (lib/domain/webhook-signatures.ts).
import type { ReactNode } from "react";

function Steps({ forge, children }: { forge: string; children: ReactNode }) {
  return (
    <details className="rounded-md border border-zinc-200 px-3 py-2 dark:border-zinc-800">
      <summary className="cursor-pointer font-medium text-sm">{forge}</summary>
      <ol className="mt-2 list-decimal space-y-1 pl-5 text-sm">{children}</ol>
    </details>
  );
}

const Code = ({ children }: { children: ReactNode }) => <code className="font-mono text-xs">{children}</code>;

export function ForgeInstructions() {
  return (
    <div className="space-y-2" data-testid="forge-instructions">
      <Steps forge="GitHub">
        <li>Repository → Settings → Webhooks → Add webhook.</li>
        <li>
          Payload URL: the URL above. Content type: <Code>application/json</Code>.
        </li>
        <li>Secret: the secret shown when the webhook was created or rotated.</li>
        <li>Which events: "Just the push event". Active: checked.</li>
      </Steps>
      <Steps forge="GitLab">
        <li>Project → Settings → Webhooks → Add new webhook.</li>
        <li>URL: the URL above. Secret token: the secret.</li>
        <li>Trigger: Push events (all branches, or only the app's branch).</li>
      </Steps>
      <Steps forge="Forgejo / Gitea">
        <li>Repository → Settings → Webhooks → Add webhook → Forgejo (or Gitea).</li>
        <li>
          Target URL: the URL above. HTTP method <Code>POST</Code>, content type <Code>application/json</Code>.
        </li>
        <li>Secret: the secret. Trigger on: Push events.</li>
      </Steps>
      <Steps forge="Anything else">
        <li>
          POST the push as JSON (<Code>ref</Code>, <Code>after</Code>) with{" "}
          <Code>X-Tussilago-Signature: sha256=&lt;hex HMAC-SHA256 of the body with the secret&gt;</Code> and{" "}
          <Code>X-Tussilago-Event: push</Code>; <Code>X-Tussilago-Delivery</Code> (a unique ID) makes retries safe.
        </li>
      </Steps>
    </div>
  );
}
