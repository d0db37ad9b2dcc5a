import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  formatDicomDate,
  formatPersonName,
  studyInfo,
  studyLine,
} from '../../src/core/dicom/study-info.js'

test('a DICOM PN reads as "FAMILY, prefix given middle, suffix" (issue 14)', () => {
  assert.equal(formatPersonName('DOE^JOHN'), 'DOE, JOHN')
  assert.equal(formatPersonName('DOE^JOHN^A^DR^JR'), 'DOE, DR JOHN A, JR')
  assert.equal(formatPersonName('DOE'), 'DOE')
  assert.equal(formatPersonName('^JOHN'), 'JOHN')
  assert.equal(formatPersonName('Yamada^Tarou=山田^太郎=やまだ^たろう'), 'Yamada, Tarou')
  assert.equal(formatPersonName('^^^^'), undefined)
  assert.equal(formatPersonName(''), undefined)
  assert.equal(formatPersonName(undefined), undefined)
})

test('a DICOM DA date reads as ISO; other text is kept', () => {
  assert.equal(formatDicomDate('20240131'), '2024-01-31')
  assert.equal(formatDicomDate('2024.01.31'), '2024-01-31')
  assert.equal(formatDicomDate(' 2024 '), '2024')
  assert.equal(formatDicomDate(''), undefined)
})

test('study info drops empty values and its line never holds a UID', () => {
  assert.equal(studyInfo({}), undefined)
  assert.equal(studyInfo({ patientName: '  ', studyDescription: '' }), undefined)
  const s = studyInfo({
    patientName: 'DOE^JOHN',
    patientId: '123',
    studyDate: '20240131',
    studyDescription: 'CHEST',
    seriesNumber: 3,
    seriesDescription: 'AXIAL 1mm',
    modality: 'CT',
  })
  assert.deepEqual(s, {
    patientName: 'DOE, JOHN',
    patientId: '123',
    studyDate: '2024-01-31',
    studyDescription: 'CHEST',
    seriesNumber: 3,
    seriesDescription: 'AXIAL 1mm',
    modality: 'CT',
  })
  assert.equal(studyLine(s!), 'DOE, JOHN · ID 123 · 2024-01-31 · CHEST · series 3 AXIAL 1mm')
  assert.equal(studyLine({ seriesNumber: 0 }), 'series 0')
})
