import type { Logger } from '@ucd/logger'
import { findAttribute, type AttributeDef } from '@ucd/mapping'
import type { UsercomClient } from '@ucd/usercom-client'
import { toAttributeDef, type CatalogCache } from '../catalog-cache'
import { SingleFlight } from '../single-flight'
import { isBadRequest } from './common'
import type { Step, StepRunner } from './context'

// ensure_attribute: create a custom attribute the catalog lacks (as `string`). One create per attribute
// at a time in a process; "already exists" (another worker made it) is success.

export interface AttributeCreatorOptions {
  client: UsercomClient
  catalog: CatalogCache
  now: () => number
  logger?: Logger
}

/** Creates missing attributes for one tenant. (A per-tenant new-attribute budget, issue 18, goes here.) */
export class AttributeCreator {
  /** In-flight creations by step key. */
  private readonly flights = new SingleFlight<AttributeDef>()

  constructor(private readonly options: AttributeCreatorOptions) {}

  /**
   * Creates a missing attribute; "already exists" (a 400 after another worker made it) is success.
   * A 400 for an attribute that a catalog fetched after it still lacks is a real refusal (rejected).
   */
  ensure(step: Step<'ensure_attribute'>): Promise<AttributeDef> {
    const { client, catalog, now, logger } = this.options
    return this.flights.run(step.key, async () => {
      try {
        const created = await client.createAttribute({
          name: step.name,
          content_type: step.contentType,
          value_type: step.valueType,
        })
        const def = toAttributeDef(created) ?? {
          contentType: step.contentType,
          name: step.name,
          nameStd: step.nameStd,
          valueType: step.valueType,
        }
        await catalog.add(def)
        return def
      } catch (error) {
        if (!isBadRequest(error)) throw error
        // Only a fetch that starts after this answer surely lists an attribute created before it.
        const refreshed = await catalog.refresh({ notBefore: now() })
        const existing = findAttribute(refreshed.attributes, step.contentType, step.nameStd)
        // A create by another process answered before this 400 would be in that catalog: not a race.
        if (existing === undefined) throw error
        logger?.debug({ attribute: step.nameStd }, 'attribute already existed')
        return existing
      }
    })
  }
}

/** The attribute as it is now; when it existed with another type, the rest is planned again. */
export const ensureAttribute: StepRunner<'ensure_attribute'> = async (step, { attributes }) => {
  const def = await attributes.ensure(step)
  const result = { nameStd: def.nameStd, valueType: def.valueType }
  if (def.valueType === step.valueType) return { succeeded: true, result }
  return {
    succeeded: true,
    result,
    replan: { kind: 'attribute_type_differs', attribute: def.nameStd, valueType: def.valueType },
  }
}
