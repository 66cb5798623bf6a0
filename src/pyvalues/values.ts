/**
 * Python values as PyYAML's safe_load produces them, kept exact enough that their Python `repr` (which
 * flytekit hashes) can be reproduced byte for byte:
 *   - int is a JS `bigint` (Python ints are unbounded, and `3` must never print as `3.0`),
 *   - float is a JS `number` (so YAML `3.10` is the float 3.1 and prints `3.1`),
 *   - str, bool and None are string, boolean and null,
 *   - list is an array, dict is a `PyDict` (a Map: insertion order kept, non-string keys allowed),
 *   - tuple, enum member and date have small classes of their own.
 */
export type PyValue =
  null | boolean | bigint | number | string | PyValue[] | PyDict | PyTuple | PyEnum | PyDate | PyDateTime

export class PyDict extends Map<PyValue, PyValue> {}

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** An enum member, printed by repr as `<Class.NAME: value>` (flytekit's CopyFileDetection). */
export class PyEnum {
  constructor(
    readonly className: string,
    readonly name: string,
    readonly value: bigint,
  ) {}
}

/** A `datetime.date` (YAML 1.1 reads an unquoted `2024-01-31` as one). */
export class PyDate {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
  ) {}
}

/**
 * A `datetime.datetime` (YAML 1.1 reads an unquoted `2024-01-31 10:00:00` as one). `offsetMinutes` is the fixed
 * UTC offset of its `datetime.timezone`, or null for a naive datetime.
 */
export class PyDateTime {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour: number,
    readonly minute: number,
    readonly second: number,
    readonly microsecond: number,
    readonly offsetMinutes: number | null,
  ) {}
}

export function isPyDict(v: PyValue | undefined): v is PyDict {
  return v instanceof PyDict
}
