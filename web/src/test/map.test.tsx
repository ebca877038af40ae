import { screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { ResourceMap } from '../components/ResourceMap'
import { fixture, renderWith } from './fixture'

describe('the map of places', () => {
  it('stays useful without map tiles: a plot and the coordinates', async () => {
    const { ana, fest, bo } = await fixture()
    await bo.createResource(fest.id, { name: 'Bar', kind: 'location', lat: 52.521, lon: 13.41 })
    await bo.createResource(fest.id, { name: 'Radio', kind: 'location', url: 'https://radio.example.org' })
    const resources = await ana.resources(fest.id)
    renderWith(ana, <ResourceMap resources={resources} tiles={false} />)

    const plot = screen.getByRole('img', { name: /Places plotted by their GPS coordinates/ })
    expect(within(plot).getByText('Main stage')).toBeInTheDocument()
    expect(within(plot).getByText('Bar')).toBeInTheDocument()
    // North is up: the Bar (further north) is drawn higher.
    const y = (name: string) => Number(within(plot).getByText(name).getAttribute('y'))
    expect(y('Bar')).toBeLessThan(y('Main stage'))

    const table = screen.getByRole('table', { name: 'Places and their coordinates' })
    expect(within(table).getByRole('row', { name: /Main stage/ })).toHaveTextContent('52.52000, 13.40500')
    expect(within(table).getByRole('row', { name: /Main stage/ })).toHaveTextContent('Alexanderplatz 1')
    expect(screen.getByText(/https:\/\/radio\.example\.org/)).toBeInTheDocument()
  })

  it('says how to get a place on the map when none has a GPS point', () => {
    renderWith(
      // The client is not used without points.
      {} as never,
      <ResourceMap resources={[]} tiles={false} />,
    )
    expect(screen.getByText(/No place has a GPS point yet/)).toBeInTheDocument()
  })
})
