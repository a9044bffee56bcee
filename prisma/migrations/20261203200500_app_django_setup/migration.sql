-- Django projects: the planner proposes migrate + collectstatic unless this is false (#20).
ALTER TABLE "App" ADD COLUMN "djangoSetup" BOOLEAN NOT NULL DEFAULT true;
