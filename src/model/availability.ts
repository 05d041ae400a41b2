/** Whether a component can be backed up or restored on this host right now, and why not. */
export type Availability = { available: true; detail?: string } | { available: false; reason: string };
