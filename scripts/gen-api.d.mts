// Types of scripts/gen-api.mjs for the TypeScript tests that run it in memory.
export declare const RELEASE: string;
/** every generated file: repository path → content */
export declare function generate(root?: string): Map<string, string>;
export declare function definitionName(component: string): string;
export declare function componentName(definition: string): string;
export declare function groupDir(group: string): string;
