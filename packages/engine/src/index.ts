export const engineHello = (): string => 'engine';
