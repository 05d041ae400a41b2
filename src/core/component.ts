import type { Readable } from 'node:stream';
import type { ZodType } from 'zod';
import type { ComponentSource } from '../archive/componentSource.js';
import type { Availability } from '../model/availability.js';
import type { ProgressReporter } from '../model/progress.js';
import type { MoveAsideFolder } from './moveAside.js';
import type { Project } from '../model/project.js';
import type { Services } from './services.js';
import type { Manifest } from '../archive/manifest.js';
import type { IndexedFile } from '../archive/fileIndex.js';
import type { ComponentShape } from '../model/shape.js';

export interface AddOptions {
  /** False for data that is already compressed; the archive stores it instead of deflating it again. */
  compressible?: boolean;
  /** Asked once the content has been read whole: facts to keep beside this file (an object's key, its ETag), handed back at restore. */
  details?: () => Record<string, unknown> | undefined;
}

/** Where a component writes during a backup. Paths are inside the component's own folder. */
export interface ComponentSink {
  /** A file of known size (a tar entry from the Docker archive API, an S3 object, a local file). */
  addFile(path: string, size: number, content: Readable, options?: AddOptions): Promise<void>;
  /** Output of unknown length (a command run in a container); spooled to disk to learn its size. */
  addStream(path: string, content: Readable, options?: AddOptions): Promise<void>;
  addText(path: string, text: string): Promise<void>;
}

/** What a restore would do, computed without changing anything: the dry-run report. */
export interface RestorePlan {
  /** One line per action, in order ("secrets/.env → docker/.env (exists, moved aside)"). */
  readonly actions: string[];
  /** What will be replaced or overwritten, shown at the type-`restore` gate. */
  readonly replaces: string[];
  readonly warnings: string[];
  /** Set by a component restoring only a selection (its plan for `PlanContext.selection`): what the gate repeats. */
  readonly selection?: SelectionImpact;
}

/**
 * A restore flag a component owns (`--files`, `--into`): it narrows what the component restores,
 * or sends it beside the live target. `restore` parses every declared flag; components that
 * declare the same flag declare it alike.
 */
export interface RestoreSelector {
  /** The flag without its dashes. */
  readonly flag: string;
  /** The value's placeholder in --help (`PATH|GLOB`); none: the flag takes no value, and given, its values are `['yes']`. */
  readonly value?: string;
  readonly repeatable: boolean;
  /** One line for --help and docs/cli.md. */
  readonly help: string;
  /** The flag restores beside the live target (another folder, database, bucket), which it then never touches. */
  readonly beside?: boolean;
  /** Why `drill` refuses the flag, when it means nothing there; a beside flag is refused anyway (a drill always restores beside). */
  readonly notInDrill?: string;
}

/** The selector flags a restore gives one component, by flag name, values in the order given. */
export interface RestoreSelection {
  readonly flags: Readonly<Record<string, readonly string[]>>;
  /** One of them restores beside: the live target is not touched. */
  readonly beside: boolean;
}

/** What a selective restore of one component does, in totals ("1 to overwrite (different), 2 identical"). */
export interface SelectionImpact {
  readonly totals: string;
  /** Where a beside-restore writes (a folder, a database): shown with "the live target is not touched". */
  readonly beside?: string;
}

/** Before each overwrite of an existing file: move it aside, or ask the operator. */
export type OverwritePolicy = { mode: 'move-aside' } | { mode: 'ask'; confirm(question: string): Promise<boolean> };

interface BaseContext {
  readonly project: Project;
  readonly services: Services;
  readonly signal: AbortSignal;
}

export type AvailabilityContext = BaseContext;

export interface BackupContext extends BaseContext {
  readonly sink: ComponentSink;
  readonly progress: ProgressReporter;
}

export interface BackupResult {
  /** Recorded in the manifest under `details.<component>` and handed back at restore. */
  details?: Record<string, unknown>;
  /** One line for the summary ("3 buckets, 1,204 objects"). */
  summary?: string;
  /** What the component held, for the next backup's anomaly checks (items per collection, database, bucket, folder). */
  shape?: ComponentShape;
}

/** A component's files of the archive being restored, and where it reports. */
export interface SourceContext extends BaseContext {
  readonly source: ComponentSource;
  readonly progress: ProgressReporter;
}

export interface PlanContext extends SourceContext {
  /** The archive's manifest, for facts recorded beside the components (the fingerprints of the encryption keys). */
  readonly manifest: Manifest;
  /** Every component this restore brings back, from this archive or the paired secrets archive of a split backup. */
  readonly restoring: readonly string[];
  /** The component's selectors of this restore; undefined when it restores the component whole. */
  readonly selection?: RestoreSelection;
}

export interface RestoreContext extends SourceContext {
  readonly overwrite: OverwritePolicy;
  /** UTC timestamp shared by every component of one restore, for move-aside names. */
  readonly startedAt: Date;
  /** `docker/.pre-restore-<stamp>/`, one for the whole restore: where replaced files are kept. */
  readonly aside: MoveAsideFolder;
  /** The same selection its plan was made for. */
  readonly selection?: RestoreSelection;
}

export interface RestoreResult {
  summary?: string;
  /** What the restore measured (mongorestore's per-namespace counts), for a drill's checks. */
  details?: Record<string, unknown>;
}

/** One thing a restore drill proved or disproved, with the figure it expected and the one it found. */
export interface DrillCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly expected: string;
  readonly measured: string;
  /** Set for the operator's canaries of orkestra-backup.json; built-in checks have none. */
  readonly canary?: string;
  /** Why the check could not be made here (it then neither passes nor fails the drill). */
  readonly skipped?: string;
}

export interface DrillCheckContext extends SourceContext {
  readonly manifest: Manifest;
  /** What this component's restore returned. */
  readonly restored: RestoreResult;
  /** The operator's canaries for this component, from orkestra-backup.json. */
  readonly canaries: readonly Canary[];
  /** The selection a selective drill restored (into copies that started empty): the checks prove exactly it came back. */
  readonly selection?: RestoreSelection;
}

/** A throwaway copy of a component's live container, made by a drill. */
export interface DrillContainer {
  /** The live container copied when no --container override names another. */
  readonly defaultName: string;
  /** Environment the copy gets on top of the live one's (where an S3 server listens). */
  readonly env?: Readonly<Record<string, string>>;
  /** Settings that point the component at the copy, from the copy's address on the drill's network. */
  settings?(address: string): Record<string, string>;
  /** Whether the copy answers yet (Redis PING, S3 listing); a copy without it is ready once it runs. */
  ready?(context: AvailabilityContext): Promise<boolean>;
  /**
   * For a component whose container is found at run time (a volume's user): the live container to
   * copy, the paths the copy must hold in volumes of its own, and settings that point the
   * component at them. Without it, the live container is `defaultName` (or its --container override).
   */
  live?(
    context: AvailabilityContext,
  ): Promise<{ container: string; volumes: readonly string[]; settings: Readonly<Record<string, string>> }>;
}

/**
 * How an operator writes a canary of a component in orkestra-backup.json: an entry of `canaries`
 * with one field named `key` (`{ "redis": { "key": "flags" } }`), its fields checked by `schema`.
 */
export interface CanaryKind<Fields extends object = object> {
  /** The entry's field: the component's name, or the name operators know it by. */
  readonly key: string;
  readonly schema: ZodType<Fields>;
  /** The check's name when the entry gives none. */
  label(fields: Fields): string;
  /** A rule across the fields that the schema does not say: the message when broken. */
  problem?(fields: Fields): string | undefined;
}

/** How a component takes part in `drill`: the container it needs, and what proves its data came back. */
export interface DrillSupport {
  readonly container?: DrillContainer;
  /** The operator's canaries this component answers; without it, orkestra-backup.json has none for it. */
  readonly canary?: CanaryKind;
  /**
   * Settings that reach the live server without a container (MONGO_URI): hidden from the drill's
   * restore, whose copies are containers.
   */
  readonly liveOnlySettings?: readonly string[];
  /** Settings the drill's restore runs with whatever the project says (no safety copy of a throwaway server). */
  readonly drillSettings?: Readonly<Record<string, string>>;
  /** Its check proves a selection (`DrillCheckContext.selection`); without it, a drill refuses the component's selectors. */
  readonly checksSelection?: boolean;
  check(context: DrillCheckContext): Promise<DrillCheck[]>;
}

/** Reading a component's part of an archive without any server (inspect and verify). */
export interface ExamineContext {
  readonly source: ComponentSource;
  /** What the manifest recorded of the part at backup time (items per group); undefined in older archives. */
  readonly shape?: ComponentShape;
  /** A setting as the local project resolves it (docker/.env, then the environment), for "would be restored as". */
  setting: (key: string) => string | undefined;
}

/** What a component's part of an archive holds and what is wrong with it. */
export interface ArchiveReport {
  /** For --json. Never secret values. */
  readonly facts: Record<string, unknown>;
  /** For people, one fact per line. */
  readonly lines: string[];
  /** Everything wrong with this component's data; empty when sound. */
  readonly problems: string[];
}

/** One item of an archive whose name `inspect --find` matched: where it lives in its component and its size. */
export interface FoundItem {
  /** Where it lives inside the component: a database, a Redis database, a bucket, a folder. */
  readonly group: {
    readonly kind: string;
    readonly name: string;
    /** What the manifest counts in it, for people (`12,345 keys`): set by `groups` only. */
    readonly detail?: string;
  };
  /** What it is: collection, key, object, file. */
  readonly kind: string;
  /** Its name as the component's selectors take it (a collection, a key, an object's key, a path inside the folder). */
  readonly name: string;
  readonly bytes: number;
  /** More about it, for people (`12 documents`, `hash`). */
  readonly detail?: string;
}

/** One pick of the TUI's tree: an item of a group (`item`), or the whole group. */
export interface PickedItem {
  /** The group's name, as `find` gives it (a database, a Redis database number, a bucket, a folder). */
  readonly group: string;
  /** The item's name as `find` gives it; undefined: every item of the group. */
  readonly item?: string;
}

/** The selector flag values that take exactly the picks, or why the component cannot express them in one restore. */
export type PickedSelectors =
  | {
      readonly flags: Readonly<Record<string, readonly string[]>>;
      /** What the flags take besides the picks, for people. */ readonly note?: string;
    }
  | { readonly refused: string };

/**
 * Turns picks of a component's items into its own selector flags, each escaped so that it takes
 * exactly the picked item. `details`: the component's record in the archive's manifest.
 */
export type PickSelectors = (picks: readonly PickedItem[], details: unknown) => PickedSelectors;

/** Whether one of an item's names matches what a search looks for. */
export type NameMatcher = (name: string) => boolean;

/** Where a configured component's definition came from: the project's orkestra-backup.json, or only the archive. */
export type DefinitionOrigin = 'project' | 'archive';

/**
 * A kind of component an operator declares in orkestra-backup.json (`volume`, `directory`): its
 * definition's schema and how a component is made from one. Each configured component records
 * its definition in the manifest, so a host whose configuration lacks it can still restore it.
 */
export interface ComponentKind<Definition = unknown> {
  readonly kind: string;
  /** The definition's fields besides `kind`. */
  readonly schema: ZodType<Definition>;
  /** The restore selectors of every component of this kind. */
  readonly selectors?: readonly RestoreSelector[];
  /** How picks of the TUI's tree become those selectors, for every component of this kind. */
  readonly pickSelectors?: PickSelectors;
  create(name: string, definition: Definition, origin: DefinitionOrigin): Component;
}

/**
 * One stateful part of a deployment. Each method is independent of the user interface:
 * availability, planRestore and examine change nothing; backup writes only into the sink;
 * restore changes the target and nothing else. Each built-in component is a folder of
 * `components/` and one entry of `COMPONENTS` in `components/index.ts` (docs/adding-a-component.md).
 */
export interface Component<Plan extends RestorePlan = RestorePlan> {
  readonly name: string;
  readonly title: string;
  availability(context: AvailabilityContext): Promise<Availability>;
  backup(context: BackupContext): Promise<BackupResult>;
  /** Checks every precondition a restore has and describes it. Throws PreconditionError when it cannot run. */
  planRestore(context: PlanContext): Promise<Plan>;
  restore(context: RestoreContext, plan: Plan): Promise<RestoreResult>;
  /** Reads only the archive: what this part holds, checked as deeply as the format allows. */
  examine(context: ExamineContext): Promise<ArchiveReport>;
  /**
   * Reads only the archive, as examine does, and yields each item whose name `matches`: the
   * component's part is read once, in archive order, and nothing is held beyond the item at hand.
   */
  find?(context: ExamineContext, matches: NameMatcher): AsyncIterable<FoundItem>;
  /**
   * The groups `find` puts its items in (buckets, folders), as the manifest records them, without
   * reading the part: the TUI's picker lists them at once. Without it, or when it answers undefined
   * (the manifest does not record them), they are found through `find`.
   */
  groups?(context: ExamineContext): Promise<readonly FoundItem['group'][] | undefined>;
  /** Restore drills; a component without it cannot be drilled. */
  readonly drill?: DrillSupport;
  /** The restore flags that pick part of it or send it elsewhere (docs/restore-one-thing.md); its plan and restore get them in `selection`. */
  readonly selectors?: readonly RestoreSelector[];
  /** How picks of the TUI's tree (items `find` yields) become `selectors` values. */
  readonly pickSelectors?: PickSelectors;
  /**
   * Which of its archive files a restore of `selection` reads (never fewer: a selective restore
   * checks only those before its first change); absent: all of them.
   */
  readonly selectionReads?: (selection: RestoreSelection) => (file: IndexedFile) => boolean;
}

/** A user canary: the component that answers it, a name for the report, and the component's own fields. */
export type Canary<Fields extends object = Record<string, unknown>> = { readonly label: string; readonly component: string } & Fields;
