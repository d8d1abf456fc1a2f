/** How a run's backend is chosen among those able to run it (FLOWSCALE_PLACEMENT). */
export const PLACEMENT_POLICIES = ['model-affinity', 'least-queue'] as const;
export type PlacementPolicy = (typeof PLACEMENT_POLICIES)[number];
