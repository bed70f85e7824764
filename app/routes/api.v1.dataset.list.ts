import { listDatasets } from '#app/features/datasets/datasets.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "List your tenant's datasets with usability and validity",
    description:
      'dataset_usability is the share of valid rows (a row is valid when every template column gets a value of its type: ' +
      'the cell, else its default, else NULL for an empty cell). is_valid is true when every file header matches the ' +
      'template (no missing, renamed or extra column), the dataset has rows, and at least 80% of them are valid.',
    tags: ['Datasets'],
    permission: 'datasets.read',
    handler: ({ db }) => listDatasets(db),
  },
})

export const loader = route.loader
export const action = route.action
