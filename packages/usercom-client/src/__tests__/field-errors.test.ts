import { describe, expect, it } from '@jest/globals'
import { UsercomRejectedError, errorForStatus } from '../errors'
import {
  MAX_FIELD_ERRORS,
  MAX_FIELD_MESSAGE_LENGTH,
  MAX_MESSAGES_PER_FIELD,
  parseFieldErrors,
} from '../field-errors'

describe('parseFieldErrors', () => {
  it('reads {"errors": {"<field>": [...]}} into field → messages', () => {
    const text = JSON.stringify({
      errors: {
        first_name: ['Ensure this field has no more than 40 characters.'],
        plan: 'Not a valid choice.',
      },
    })
    expect(parseFieldErrors(text)).toEqual({
      first_name: ['Ensure this field has no more than 40 characters.'],
      plan: ['Not a valid choice.'],
    })
  })

  it('keeps non_field_errors under its name, and nested per-item errors as JSON text', () => {
    const text = JSON.stringify({
      errors: { non_field_errors: ['Expected a JSON object.'], tags: [{ 0: ['x'] }] },
    })
    expect(parseFieldErrors(text)).toEqual({
      non_field_errors: ['Expected a JSON object.'],
      tags: ['{"0":["x"]}'],
    })
  })

  it.each([
    ['not JSON', 'Bad Request'],
    ['no errors', '{"detail":"nope"}'],
    ['errors is a list', '{"errors":["a"]}'],
    ['errors is empty', '{"errors":{}}'],
    ['a JSON list', '[1,2]'],
    ['empty', ''],
  ])('names no field for %s', (_what, text) => {
    expect(parseFieldErrors(text)).toBeUndefined()
  })

  it('is bounded: fields, messages per field, message length', () => {
    const errors: Record<string, string[]> = {}
    for (let i = 0; i < MAX_FIELD_ERRORS + 20; i += 1) errors[`f${i}`] = Array(20).fill('m'.repeat(5000))
    const parsed = parseFieldErrors(JSON.stringify({ errors })) ?? {}
    expect(Object.keys(parsed)).toHaveLength(MAX_FIELD_ERRORS)
    expect(parsed.f0).toHaveLength(MAX_MESSAGES_PER_FIELD)
    expect(parsed.f0?.[0]?.length).toBe(MAX_FIELD_MESSAGE_LENGTH + 1)
  })

  it('does not let a "__proto__" field change the object', () => {
    const parsed = parseFieldErrors('{"errors":{"__proto__":["x"],"a":["y"]}}') ?? {}
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(Object.keys(parsed).sort()).toEqual(['__proto__', 'a'])
  })
})

describe('UsercomRejectedError.fieldErrors', () => {
  it('is set for a 400 that names fields, and only for a 400', () => {
    const fieldErrors = { email: ['Enter a valid email address.'] }
    const bad = errorForStatus(
      { endpoint: 'POST /users/update_or_create/', status: 400, fieldErrors },
      undefined,
    )
    expect(bad).toBeInstanceOf(UsercomRejectedError)
    expect((bad as UsercomRejectedError).fieldErrors).toEqual(fieldErrors)
    const other = errorForStatus({ endpoint: 'POST /events/', status: 422, fieldErrors }, undefined)
    expect((other as UsercomRejectedError).fieldErrors).toBeUndefined()
  })
})
