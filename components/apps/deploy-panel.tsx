"use client";

// The app page's "Deploy" card: upload a tarball, or build the app's git source again. Both actions end on the new
// deployment's page (a redirect), so only their errors come back here. The upload is a drop zone around the file
// input (#18): drop a tarball on it, or click it or press Enter/Space on it to pick one; the input stays the form's
// field, so the keyboard and a plain click work as before.
import { type DragEvent, useId, useRef, useState } from "react";
import { PendingButton } from "@/components/apps/pending-button";
import { type FormAction, FormMessage, HiddenFields, useActionForm } from "@/components/form";
import { inputClass, TextLink } from "@/components/ui";

type DeployPanelProps = {
  teamId: string;
  appId: string;
  uploadAction: FormAction;
  gitAction: FormAction;
  git: { url: string; ref: string } | null;
  uploadLimitMb: number;
  settingsHref: string;
};

function UploadForm({
  teamId,
  appId,
  action,
  uploadLimitMb,
}: {
  teamId: string;
  appId: string;
  action: FormAction;
  uploadLimitMb: number;
}) {
  const form = useActionForm(action);
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [chosen, setChosen] = useState<string | null>(null);
  const error = form.fieldError("file");

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (!file || !input.current) return;
    // The dropped file becomes the input's own, so the form submits it like a picked one.
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.current.files = transfer.files;
    setChosen(file.name);
  };

  return (
    <form action={form.formAction} className="space-y-3" noValidate>
      <HiddenFields values={{ teamId, appId }} />
      <div>
        <label htmlFor={id} className="block font-medium text-sm">
          Source tarball (.tar.gz)
        </label>
        {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is the pointer's shortcut; the file input inside is the keyboard and click path */}
        <div
          data-testid="upload-dropzone"
          data-dragging={dragging ? "true" : undefined}
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          className={`mt-1.5 rounded-lg border-2 border-dashed p-4 text-center text-sm transition-colors focus-within:border-brand-600 ${
            dragging
              ? "border-brand-600 bg-brand-50 dark:bg-brand-900"
              : "border-zinc-300 bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900"
          }`}
        >
          <p className="text-zinc-700 dark:text-zinc-300">
            {chosen ? (
              <>
                Ready to deploy <code className="break-all font-mono text-xs">{chosen}</code>
              </>
            ) : (
              "Drop a .tar.gz here, or choose one:"
            )}
          </p>
          <input
            ref={input}
            id={id}
            name="file"
            type="file"
            required
            accept=".tar.gz,.tgz,application/gzip"
            onChange={(event) => setChosen(event.currentTarget.files?.[0]?.name ?? null)}
            aria-invalid={error ? true : undefined}
            aria-describedby={`${id}-hint${error ? ` ${id}-error` : ""}`}
            className={`mt-2 ${inputClass} bg-white p-1.5 file:mr-3 file:rounded file:border-0 file:bg-zinc-100 file:px-3 file:py-1.5 file:font-medium file:text-sm dark:bg-zinc-950 dark:file:bg-zinc-800 dark:file:text-zinc-100`}
          />
        </div>
        <p id={`${id}-hint`} className="mt-1 text-xs text-zinc-500">
          The app's directory packed with <code className="font-mono">tar -czf app.tar.gz -C my-app .</code>, up to{" "}
          {uploadLimitMb} MiB.
        </p>
        {error ? (
          <p id={`${id}-error`} className="mt-1 text-red-600 text-xs dark:text-red-400">
            {error}
          </p>
        ) : null}
      </div>
      <FormMessage state={form.state} />
      <PendingButton pending={form.pending} pendingLabel="Uploading…">
        Upload and deploy
      </PendingButton>
    </form>
  );
}

function GitForm({
  teamId,
  appId,
  action,
  git,
}: {
  teamId: string;
  appId: string;
  action: FormAction;
  git: { url: string; ref: string };
}) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} className="space-y-3">
      <HiddenFields values={{ teamId, appId }} />
      <p className="text-sm">
        Builds the latest commit of <code className="break-all font-mono text-xs">{git.ref}</code> from{" "}
        <code className="break-all font-mono text-xs">{git.url}</code>.
      </p>
      <FormMessage state={form.state} />
      <PendingButton pending={form.pending} pendingLabel="Starting…" variant="secondary">
        Deploy from git
      </PendingButton>
    </form>
  );
}

export function DeployPanel({
  teamId,
  appId,
  uploadAction,
  gitAction,
  git,
  uploadLimitMb,
  settingsHref,
}: DeployPanelProps) {
  return (
    <div className="grid gap-6 md:grid-cols-2 md:divide-x md:divide-zinc-200 dark:md:divide-zinc-800">
      <section aria-labelledby="deploy-upload" className="space-y-2 md:pr-6">
        <h3 id="deploy-upload" className="font-medium text-sm">
          From an upload
        </h3>
        <UploadForm teamId={teamId} appId={appId} action={uploadAction} uploadLimitMb={uploadLimitMb} />
      </section>
      <section aria-labelledby="deploy-git" className="space-y-2 md:pl-6">
        <h3 id="deploy-git" className="font-medium text-sm">
          From git
        </h3>
        {git ? (
          <GitForm teamId={teamId} appId={appId} action={gitAction} git={git} />
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            This app has no git repository. Add one in <TextLink href={settingsHref}>Settings</TextLink> to deploy from
            git.
          </p>
        )}
      </section>
    </div>
  );
}
